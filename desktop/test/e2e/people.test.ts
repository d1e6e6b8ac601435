import sharp from 'sharp'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  bubble,
  canRunE2e,
  chatRow,
  connect,
  openChat,
  type Person,
  screenshots,
  send,
  World,
} from './harness'

/** The size of the picture an <img> has loaded (0 × 0 until it has); runs in the page. */
const pictureSize = (element: unknown) => {
  const img = element as { naturalWidth: number; naturalHeight: number }
  return { width: img.naturalWidth, height: img.naturalHeight }
}

/** How bright an element's background is, 0 (black) to 765 (white); runs in the page. */
const brightness = (element: unknown) => {
  const page = globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } }
  const channels = page.getComputedStyle(element).backgroundColor.match(/\d+/g) ?? []
  return channels.slice(0, 3).reduce((sum: number, part: string) => sum + Number(part), 0)
}

interface TextBox {
  scrollWidth: number
  clientWidth: number
}

/** Whether an element's one line of text is wider than the element; runs in the page. */
const cutShort = (element: unknown) => {
  const box = element as TextBox
  return box.scrollWidth > box.clientWidth
}

/**
 * Whether the box that holds a text (the element itself: text-overflow draws an ellipsis only on a
 * block container's own line, never on a flex box's) is too narrow for it, and ends it in "…".
 */
const endsInEllipsis = (element: unknown) => {
  const box = element as TextBox
  const page = globalThis as unknown as {
    getComputedStyle(element: unknown): { display: string; textOverflow: string; overflowX: string }
  }
  const style = page.getComputedStyle(element)
  return {
    cut: box.scrollWidth > box.clientWidth,
    ellipsis:
      style.textOverflow === 'ellipsis' && style.overflowX === 'hidden' && !style.display.includes('flex'),
  }
}

describe.skipIf(!canRunE2e)('contacts, profile and settings in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await world.registered('Alice', 'Bob', 'Carol')
  }, 60_000)
  afterAll(() => world.stop(), 60_000)
  // A step that failed with a dialog open must not take the next stories down with it.
  afterEach(async () => {
    for (const { page } of world.people) {
      for (let i = 0; i < 3 && (await page.locator('dialog[open]').count()) > 0; i++) {
        await page.keyboard.press('Escape')
      }
    }
  })

  it('a request you sent can be cancelled, and one you got can be declined', {
    timeout: 30_000,
  }, async () => {
    await alice.page.getByRole('button', { name: 'Add contact' }).click()
    await alice.page.getByLabel('Username').fill(carol.username)
    await alice.page.getByRole('button', { name: `Add ${carol.username}` }).click()
    await alice.page.getByRole('dialog', { name: 'Add contact' }).getByText('Request sent').waitFor()
    await alice.page.keyboard.press('Escape')
    const requests = alice.page.getByRole('region', { name: 'Contact requests' })
    await requests.getByText(`Request sent to @${carol.username}`).waitFor()
    await carol.page.getByRole('button', { name: `Accept ${alice.username}` }).waitFor()

    // Alice changes her mind: the request is gone on both sides.
    await alice.page.getByRole('button', { name: `Cancel request to ${carol.username}` }).click()
    await requests.waitFor({ state: 'detached' })
    await carol.page.getByRole('button', { name: `Accept ${alice.username}` }).waitFor({ state: 'detached' })

    // Now Carol asks, and Alice declines: no chat with Carol appears for either of them.
    await carol.page.getByRole('button', { name: 'Add contact' }).click()
    await carol.page.getByLabel('Username').fill(alice.username)
    await carol.page.getByRole('button', { name: `Add ${alice.username}` }).click()
    await carol.page.getByRole('dialog', { name: 'Add contact' }).getByText('Request sent').waitFor()
    await carol.page.keyboard.press('Escape')
    await alice.page.getByText(`@${carol.username} wants to chat`).waitFor()
    await alice.page.getByRole('button', { name: `Decline ${carol.username}` }).click()
    await alice.page.getByText(`@${carol.username} wants to chat`).waitFor({ state: 'detached' })
    await alice.page.waitForTimeout(300)
    expect(await chatRow(alice.page, 'Carol').count()).toBe(0)
    expect(await chatRow(carol.page, 'Alice').count()).toBe(0)
  })

  it('a request row shows the whole name where there is room, and a chat’s preview ends in an ellipsis', {
    timeout: 40_000,
  }, async () => {
    const [dora] = await world.registered('Dorothea')
    const renamed = await dora.host.core.call('profile.update', { lastName: 'Liddell-Hart' })
    if (!renamed.ok) throw new Error(renamed.error.message)
    await dora.page.getByRole('button', { name: 'Add contact' }).click()
    await dora.page.getByLabel('Username').fill(alice.username)
    await dora.page.getByRole('button', { name: `Add ${alice.username}` }).click()
    await dora.page.getByRole('dialog', { name: 'Add contact' }).getByText('Request sent').waitFor()
    await dora.page.keyboard.press('Escape')

    const requests = alice.page.getByRole('region', { name: 'Contact requests' })
    const name = requests.getByText('Dorothea Liddell-Hart', { exact: true })
    await name.waitFor()
    await screenshots(alice.page, 'requests')
    expect(await name.evaluate(cutShort), 'the name is cut short').toBe(false)
    const sentTo = dora.page.getByRole('region', { name: 'Contact requests' }).getByText('Alice Tester')
    expect(await sentTo.evaluate(cutShort)).toBe(false)

    await alice.page.getByRole('button', { name: `Accept ${dora.username}` }).click()
    await openChat(dora.page, 'Alice')
    const long = 'A preview longer than the chat list is wide, so that its end has to be left out of the row'
    await send(dora.page, long)
    const preview = chatRow(alice.page, 'Dorothea').getByText(long)
    await preview.waitFor()
    await screenshots(alice.page, 'chat-list')
    expect(await preview.evaluate(endsInEllipsis)).toEqual({ cut: true, ellipsis: true })
  })

  it('add contact finds people by the start of their username as you type', { timeout: 30_000 }, async () => {
    const page = alice.page
    await page.getByRole('button', { name: 'Add contact' }).click()
    const dialog = page.getByRole('dialog', { name: 'Add contact' })
    const found = dialog.getByRole('list', { name: 'People found' })
    const box = dialog.getByLabel('Username')
    // Two letters are no prefix (the relay matches whole usernames only), so nobody is listed yet.
    await box.pressSequentially('bo')
    await dialog.getByText('Type three letters or more, or a whole username.').waitFor()
    expect(await found.getByRole('listitem').count()).toBe(0)
    await box.pressSequentially('b')
    await found
      .getByRole('listitem')
      .filter({ hasText: `@${bob.username}` })
      .waitFor()
    expect(await found.getByText('Bob Tester').count()).toBe(1)
    expect(await found.getByText(`@${carol.username}`).count()).toBe(0)

    await box.fill('')
    await box.pressSequentially('car')
    await found.getByText(`@${carol.username}`).waitFor()
    await found.getByText(`@${bob.username}`).waitFor({ state: 'detached' })

    await box.fill('')
    await box.pressSequentially('zzq')
    await dialog.getByText('Nobody on this relay has a username starting with “zzq”.').waitFor()

    // Found as she types, added from the list; Bob accepts.
    await box.fill('')
    await box.pressSequentially(bob.username.slice(0, 4))
    await dialog.getByRole('button', { name: `Add ${bob.username}` }).click()
    await dialog.getByText('Request sent').waitFor()
    await page.keyboard.press('Escape')
    await bob.page.getByRole('button', { name: `Accept ${alice.username}` }).click()
    await chatRow(page, 'Bob').waitFor()
    await chatRow(bob.page, 'Alice').waitFor()
  })

  it('the contact’s profile opens from the conversation header, and mute toggles', {
    timeout: 30_000,
  }, async () => {
    const page = alice.page
    await openChat(page, 'Bob')
    await send(page, 'Hi Bob')
    await page.getByRole('button', { name: 'Profile of Bob Tester' }).click()
    const profile = page.getByRole('dialog', { name: 'Bob Tester' })
    await profile.getByText(`@${bob.username}`).waitFor()
    await profile.getByText(/In your contacts\s+since/).waitFor()
    // The conversation is already open: no "Send message" to offer.
    expect(await profile.getByRole('button', { name: 'Send message' }).count()).toBe(0)

    const mute = profile.getByRole('button', { name: 'Mute notifications', exact: true })
    expect(await mute.getAttribute('aria-pressed')).toBe('false')
    await mute.click()
    const unmute = profile.getByRole('button', { name: 'Unmute notifications' })
    await unmute.waitFor()
    expect(await unmute.getAttribute('aria-pressed')).toBe('true')
    // It is remembered: closed and opened again, still muted.
    await page.keyboard.press('Escape')
    await profile.waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Contact info' }).click()
    await profile.getByRole('button', { name: 'Unmute notifications' }).click()
    await profile.getByRole('button', { name: 'Mute notifications', exact: true }).waitFor()
    await page.keyboard.press('Escape')
  })

  it('blocking is silent: what the blocked person writes shows as sent and never arrives, also after unblocking, which keeps the contact-since date', {
    timeout: 40_000,
  }, async () => {
    await openChat(bob.page, 'Alice')
    await bubble(bob.page, 'Hi Bob').waitFor()
    const bobsHeader = bob.page.getByRole('button', { name: 'Profile of Alice Tester' })
    await bobsHeader.getByText('online', { exact: true }).waitFor()

    const page = alice.page
    await page.getByRole('button', { name: 'Profile of Bob Tester' }).click()
    const profile = page.getByRole('dialog', { name: 'Bob Tester' })
    const since = profile
      .getByRole('definition')
      .filter({ hasText: /In your contacts\s+since/ })
      .locator('time')
    const contactsSince = await since.getAttribute('datetime')
    expect(contactsSince).toMatch(/^\d{4}-/)
    await profile.getByRole('button', { name: 'Block', exact: true }).click()
    await profile.getByText('Block Bob Tester? They will not be able to message you').waitFor()
    await profile.getByRole('button', { name: 'Block', exact: true }).click()
    await profile.getByRole('button', { name: 'Unblock' }).waitFor()
    await profile.getByText(/Blocked\s+since/).waitFor()
    await page.keyboard.press('Escape')
    await page.getByText('You blocked Bob Tester. They cannot write to you.').waitFor()

    // Bob no longer sees when Alice is online; what he writes looks sent, like anything else.
    await bobsHeader.getByText('online', { exact: true }).waitFor({ state: 'detached' })
    await send(bob.page, 'Are you ignoring me?')
    const unheard = bubble(bob.page, 'Are you ignoring me?')
    await unheard.getByRole('img', { name: 'Sent' }).waitFor()
    await page.waitForTimeout(1000)
    expect(await unheard.getByRole('img', { name: 'Sent' }).count()).toBe(1)
    expect(await unheard.getByRole('alert').count()).toBe(0)
    expect(await unheard.getByRole('button', { name: 'Retry' }).count()).toBe(0)
    expect(await bubble(page, 'Are you ignoring me?').count()).toBe(0)
    await screenshots(bob.page, 'blocked-sender')

    // Alice lifts the block: they are contacts since the same moment as before, and what Bob wrote
    // meanwhile stays his alone, also after a reload; what he writes now arrives.
    await page.getByRole('button', { name: 'Unblock' }).click()
    await page.getByRole('textbox', { name: 'Message' }).waitFor()
    await page.getByRole('button', { name: 'Profile of Bob Tester' }).click()
    await profile.getByText(/In your contacts\s+since/).waitFor()
    expect(await since.getAttribute('datetime')).toBe(contactsSince)
    await page.keyboard.press('Escape')
    await send(bob.page, 'Back again?')
    await bubble(page, 'Back again?').waitFor()
    await page.reload()
    await openChat(page, 'Bob')
    await bubble(page, 'Back again?').waitFor()
    expect(await bubble(page, 'Are you ignoring me?').count()).toBe(0)
  })

  it('removing a contact takes them out of both people’s chats', { timeout: 30_000 }, async () => {
    await connect(alice, carol)
    const page = alice.page
    await openChat(page, 'Carol')
    await page.getByRole('button', { name: 'Profile of Carol Tester' }).click()
    const profile = page.getByRole('dialog', { name: 'Carol Tester' })
    await profile.getByRole('button', { name: 'Remove contact' }).click()
    await profile.getByText('Remove Carol Tester from your contacts?').waitFor()
    await profile.getByRole('button', { name: 'Remove', exact: true }).click()
    await profile.waitFor({ state: 'detached' })
    await chatRow(page, 'Carol').waitFor({ state: 'detached' })
    await chatRow(carol.page, 'Alice').waitFor({ state: 'detached' })
    // She is someone Alice could add again.
    await page.getByRole('button', { name: 'Add contact' }).click()
    await page.getByLabel('Username').fill(carol.username)
    await page.getByRole('button', { name: `Add ${carol.username}` }).waitFor()
    await page.keyboard.press('Escape')
  })

  it('after a removal both people see why they cannot write, and can become contacts again from the chat', {
    timeout: 40_000,
  }, async () => {
    await connect(bob, carol)
    await openChat(bob.page, 'Carol')
    await send(bob.page, 'Hi Carol')
    await openChat(carol.page, 'Bob')
    await bubble(carol.page, 'Hi Carol').waitFor()

    await carol.page.getByRole('button', { name: 'Profile of Bob Tester' }).click()
    const profile = carol.page.getByRole('dialog', { name: 'Bob Tester' })
    await profile.getByRole('button', { name: 'Remove contact' }).click()
    await profile.getByRole('button', { name: 'Remove', exact: true }).click()
    await profile.waitFor({ state: 'detached' })

    // Both keep the history, and neither gets a message box that cannot work.
    const gone = (page: typeof bob.page, name: string) =>
      page
        .getByRole('status')
        .filter({ hasText: `${name} is no longer in your contacts. Add them again to write to them.` })
    await gone(carol.page, 'Bob Tester').waitFor()
    await gone(bob.page, 'Carol Tester').waitFor()
    for (const page of [bob.page, carol.page]) {
      expect(await page.getByRole('textbox', { name: 'Message' }).count()).toBe(0)
      await bubble(page, 'Hi Carol').waitFor()
    }
    await screenshots(bob.page, 'contact-removed')

    // Bob asks again from the chat; Carol is offered to accept there; then both can write.
    await bob.page.getByRole('button', { name: 'Add Carol Tester again' }).click()
    await bob.page
      .getByRole('status')
      .filter({ hasText: 'Request sent. You can write once Carol Tester accepts.' })
      .waitFor()
    const asked = carol.page
      .getByRole('status')
      .filter({ hasText: 'Bob Tester asked to be your contact. Accept to write to each other.' })
    await asked.waitFor()
    await screenshots(carol.page, 'contact-asked')
    await asked.getByRole('button', { name: 'Accept' }).click()
    await carol.page.getByRole('textbox', { name: 'Message' }).waitFor()
    await bob.page.getByRole('textbox', { name: 'Message' }).waitFor()
    await send(carol.page, 'Welcome back')
    await bubble(bob.page, 'Welcome back').waitFor()
    // The stories after this one look at Bob's conversation with Alice.
    await openChat(bob.page, 'Alice')
  })

  it('new names and email show in your header and, for names, in your contact’s app', {
    timeout: 30_000,
  }, async () => {
    const page = alice.page
    await page.getByRole('button', { name: 'Your profile' }).click()
    const profile = page.getByRole('dialog', { name: 'Your profile' })
    const save = profile.getByRole('button', { name: 'Save' })
    expect(await save.isDisabled()).toBe(true)
    // An empty name is pointed out and cannot be saved.
    await profile.getByLabel('First name').fill('')
    await profile.getByText('Enter your first name').waitFor()
    expect(await profile.getByLabel('First name').getAttribute('aria-invalid')).toBe('true')

    await profile.getByLabel('First name').fill('Alicia')
    await profile.getByLabel('Last name').fill('Marsh')
    await profile.getByLabel('Email').fill('alicia.marsh@example.org')
    await save.click()
    await profile.getByRole('status').getByText('Saved').waitFor()
    await page.keyboard.press('Escape')
    await page.getByRole('button', { name: 'Your profile' }).getByText('Alicia Marsh').waitFor()

    // Bob's app hears of it: the chat and the conversation header carry the new name.
    await chatRow(bob.page, 'Alicia Marsh').waitFor()
    await bob.page.getByRole('button', { name: 'Profile of Alicia Marsh' }).waitFor()

    // After a reload Alice's profile still has all three.
    await page.reload()
    await page.getByRole('button', { name: 'Your profile' }).getByText('Alicia Marsh').click()
    expect(await profile.getByLabel('Email').inputValue()).toBe('alicia.marsh@example.org')
    await page.keyboard.press('Escape')
  })

  it('a picture cropped to a square becomes your avatar, for you and for your contact', {
    timeout: 40_000,
  }, async () => {
    const wide = await sharp({
      create: { width: 900, height: 600, channels: 3, background: { r: 40, g: 150, b: 120 } },
    })
      .composite([
        {
          input: await sharp({
            create: { width: 300, height: 300, channels: 3, background: { r: 250, g: 210, b: 60 } },
          })
            .png()
            .toBuffer(),
          top: 150,
          left: 300,
        },
      ])
      .png()
      .toBuffer()
    const page = alice.page
    await page.getByRole('button', { name: 'Your profile' }).click()
    const profile = page.getByRole('dialog', { name: 'Your profile' })
    expect(await profile.getByRole('button', { name: 'Remove picture' }).count()).toBe(0)
    await profile
      .getByLabel('Profile picture file')
      .setInputFiles({ name: 'garden.png', mimeType: 'image/png', buffer: wide })
    await profile.getByRole('slider', { name: 'Zoom' }).waitFor()
    await profile.getByRole('button', { name: 'Use this picture' }).click()
    await profile.getByRole('button', { name: 'Remove picture' }).waitFor()

    const mine = page.getByRole('button', { name: 'Your profile' }).locator('img')
    await mine.waitFor()
    await expect.poll(async () => (await mine.evaluate(pictureSize)).width).toBeGreaterThan(0)
    await screenshots(page, 'profile')
    await page.keyboard.press('Escape')

    // Bob sees the picture in his chat list and in the conversation header, square.
    const inList = chatRow(bob.page, 'Alicia Marsh').locator('img')
    await inList.waitFor()
    await expect.poll(async () => (await inList.evaluate(pictureSize)).width).toBeGreaterThan(0)
    const size = await inList.evaluate(pictureSize)
    expect(size.width).toBe(size.height)
    await bob.page.getByRole('button', { name: 'Profile of Alicia Marsh' }).locator('img').waitFor()
  })

  it('the crop area has a name, and the keyboard moves and zooms the picture in it', {
    timeout: 30_000,
  }, async () => {
    const wide = await sharp({
      create: { width: 900, height: 600, channels: 3, background: { r: 200, g: 90, b: 60 } },
    })
      .png()
      .toBuffer()
    const page = alice.page
    await page.getByRole('button', { name: 'Your profile' }).click()
    const profile = page.getByRole('dialog', { name: 'Your profile' })
    await profile
      .getByLabel('Profile picture file')
      .setInputFiles({ name: 'wide.png', mimeType: 'image/png', buffer: wide })
    const area = profile.getByRole('application', { name: 'Crop your picture' })
    await area.waitFor()
    // Every button in the dialog has a name (the cropper's own unnamed one is out of the tree).
    const tree = await profile.ariaSnapshot()
    expect(tree).not.toMatch(/- button\s*$/m)
    expect(await area.getAttribute('aria-describedby')).toBeTruthy()

    const picture = area.locator('img')
    const shift = () =>
      picture.evaluate((img) => {
        const transform = (img as unknown as { style: { transform: string } }).style.transform
        const [, x, y] = transform.match(/translate\((-?[\d.]+)px, (-?[\d.]+)px\)/) ?? []
        return { x: Number(x), y: Number(y) }
      })
    const zoom = profile.getByRole('slider', { name: 'Zoom' })
    await area.focus()
    await page.keyboard.press('+')
    await page.keyboard.press('+')
    expect(Number(await zoom.inputValue())).toBeCloseTo(1.2)
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowUp')
    expect(await shift()).toEqual({ x: 10, y: -10 })
    // Never past the edge of the picture: far to the right, it stops.
    for (let i = 0; i < 10; i++) await page.keyboard.press('Shift+ArrowRight')
    const edge = (await shift()).x
    expect(edge).toBeGreaterThan(10)
    expect(edge).toBeLessThan(200)
    await page.keyboard.press('-')
    expect(Number(await zoom.inputValue())).toBeCloseTo(1.1)
    expect((await shift()).x).toBeLessThan(edge)
    await screenshots(page, 'profile-crop')
    await profile.getByRole('button', { name: 'Cancel' }).click()
    await page.keyboard.press('Escape')
  })

  it('Settings say when the browser blocks notifications, and ask the browser when it has not decided', {
    timeout: 30_000,
  }, async () => {
    // A second tab of Alice's app, whose browser answers as the test says (site settings cannot be
    // changed from a test): blocked at first.
    const page = await alice.context.newPage()
    await page.addInitScript(`
      window.notificationPermission = 'denied'
      window.permissionRequests = 0
      Object.defineProperty(Notification, 'permission', { get: () => window.notificationPermission })
      Notification.requestPermission = async () => {
        window.permissionRequests++
        window.notificationPermission = 'granted'
        return 'granted'
      }`)
    await page.goto(alice.host.url)
    /** What the person does in the browser's site settings, then back in the app's window. */
    const browserSays = (permission: string) =>
      page.evaluate(
        `window.notificationPermission = '${permission}'; window.dispatchEvent(new Event('focus'))`,
      )

    await page.getByRole('button', { name: 'Settings' }).click()
    const settings = page.getByRole('dialog', { name: 'Settings' })
    const notifications = settings.getByRole('switch', { name: /^Notifications/ })
    await settings
      .getByText('Notifications are blocked for this page in your browser’s site settings')
      .waitFor()
    expect(await notifications.isChecked()).toBe(false)
    expect(await notifications.isDisabled()).toBe(true)
    expect(await settings.getByRole('switch', { name: /^Sound/ }).isDisabled()).toBe(true)
    await screenshots(page, 'settings-notifications-blocked')

    // Allowed in the site settings: the switch is on again, as it was set.
    await browserSays('granted')
    await expect.poll(() => notifications.isChecked()).toBe(true)
    expect(await notifications.isDisabled()).toBe(false)
    expect(await settings.getByText(/blocked for this page/).count()).toBe(0)

    // Not decided (a prompt dismissed): Settings offer to ask, and asking takes the click.
    await browserSays('default')
    const allow = settings.getByRole('button', { name: 'Allow notifications' })
    await allow.waitFor()
    await screenshots(page, 'settings-notifications-ask')
    await allow.click()
    await allow.waitFor({ state: 'detached' })
    expect(await page.evaluate('window.permissionRequests')).toBe(1)
    expect(await notifications.isChecked()).toBe(true)
    await page.close()
  })

  it('Settings: the Dark theme darkens the app, and Electron-only switches are absent in a browser', {
    timeout: 30_000,
  }, async () => {
    const page = alice.page
    // The browser allows notifications here: their switches do what they say (Settings follow the
    // browser's permission; a headless browser dismisses its prompt, and blocks after a few).
    await alice.context.grantPermissions(['notifications'])
    const theme = () => page.locator('html').getAttribute('data-theme')
    const backgroundBrightness = () => page.locator('body').evaluate(brightness)
    await page.getByRole('button', { name: 'Settings' }).click()
    const settings = page.getByRole('dialog', { name: 'Settings' })
    const themes = settings.getByRole('radiogroup', { name: 'Theme' })
    expect(await themes.getByRole('radio', { name: 'System' }).isChecked()).toBe(true)
    expect(await backgroundBrightness()).toBeGreaterThan(600)
    await screenshots(page, 'settings')

    for (const name of [/^Notifications/, /^Message preview/, /^Sound/, /^Typing indicator/]) {
      await settings.getByRole('switch', { name }).waitFor()
    }
    expect(await settings.getByRole('switch', { name: /Start at login/ }).count()).toBe(0)
    expect(await settings.getByRole('switch', { name: /Close to tray/ }).count()).toBe(0)
    expect(await settings.getByText('Start at login').count()).toBe(0)
    // Without notifications, their preview and sound have nothing to apply to.
    await settings.getByRole('switch', { name: /^Notifications/ }).uncheck()
    await expect.poll(() => settings.getByRole('switch', { name: /^Sound/ }).isDisabled()).toBe(true)
    await settings.getByRole('switch', { name: /^Notifications/ }).check()
    await expect.poll(() => settings.getByRole('switch', { name: /^Sound/ }).isDisabled()).toBe(false)

    await themes.getByText('Dark', { exact: true }).click()
    expect(await themes.getByRole('radio', { name: 'Dark' }).isChecked()).toBe(true)
    await expect.poll(theme).toBe('dark')
    expect(await backgroundBrightness()).toBeLessThan(150)

    // A light system does not override the choice, and it survives a reload.
    await page.emulateMedia({ colorScheme: 'light' })
    await page.reload()
    await page.getByRole('button', { name: 'Your profile' }).waitFor()
    await expect.poll(theme).toBe('dark')

    await page.getByRole('button', { name: 'Settings' }).click()
    await themes.getByText('Light', { exact: true }).click()
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.waitForTimeout(200)
    expect(await theme()).toBe('light')
    await themes.getByText('System', { exact: true }).click()
    await expect.poll(theme).toBe('dark')
    await page.emulateMedia({ colorScheme: 'light' })
    await expect.poll(theme).toBe('light')
  })
})
