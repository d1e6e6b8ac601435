import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bubble,
  canRunE2e,
  chatRow,
  connect,
  messageLog,
  openChat,
  type Person,
  register,
  screenshots,
  send,
  World,
} from './harness'

describe.skipIf(!canRunE2e)('two people chat in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    alice = await world.person('Alice')
    bob = await world.person('Bob')
    // The OS shows notifications where a test cannot see them: Bob's page records them instead.
    await bob.page.addInitScript(`
      window.shownNotifications = []
      window.Notification = class {
        static permission = 'granted'
        static requestPermission() { return Promise.resolve('granted') }
        constructor(title, options) { window.shownNotifications.push({ title, body: options.body }) }
        close() {}
      }`)
    await bob.page.reload()
  }, 60_000)
  afterAll(() => world.stop(), 60_000)

  it('register, become contacts, and talk both ways live', { timeout: 60_000 }, async () => {
    await register(alice)
    await register(bob)
    await connect(alice, bob)

    await openChat(alice.page, 'Bob')
    await send(alice.page, 'Hi Bob, are you there?')
    // Bob sees it arrive in his sidebar, unread, before opening the chat.
    await chatRow(bob.page, 'Alice').getByText('Hi Bob, are you there?').waitFor()
    await chatRow(bob.page, 'Alice').getByLabel('1 unread').waitFor()
    // Not looking at that chat: a notification with who wrote and what.
    expect(await bob.page.evaluate('window.shownNotifications')).toEqual([
      { title: 'Alice Tester', body: 'Hi Bob, are you there?' },
    ])

    await openChat(bob.page, 'Alice')
    await bubble(bob.page, 'Hi Bob, are you there?').waitFor()
    // Bob typing shows on Alice's side.
    await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Hel')
    await alice.page.getByText('typing…').first().waitFor()
    await bob.page.getByRole('textbox', { name: 'Message' }).fill('')
    await send(bob.page, 'Hello Alice! Yes, here.')
    await bubble(alice.page, 'Hello Alice! Yes, here.').waitFor()

    // Bob has read Alice's message: her ticks say so.
    await bubble(alice.page, 'Hi Bob, are you there?').getByRole('img', { name: 'Read' }).waitFor()
    expect(
      await chatRow(bob.page, 'Alice')
        .getByLabel(/unread/)
        .count(),
    ).toBe(0)
  })

  it('send a picture with a caption, and open it', { timeout: 40_000 }, async () => {
    // A small painted sunset (sharp renders the SVG), so the screenshots show a real picture.
    const sunset = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="400">
      <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
        <stop offset="0" stop-color="#2b3a67"/><stop offset="0.55" stop-color="#f0834f"/>
        <stop offset="1" stop-color="#ffd27a"/></linearGradient></defs>
      <rect width="640" height="400" fill="url(#sky)"/>
      <circle cx="320" cy="300" r="70" fill="#fff1b8"/>
      <rect y="300" width="640" height="100" fill="#1f2a44"/>
      <path d="M0 300 L120 250 L230 300 L360 240 L470 300 L560 260 L640 300 Z" fill="#34406a"/>
    </svg>`
    const png = await sharp(Buffer.from(sunset)).png().toBuffer()
    const chooser = alice.page.waitForEvent('filechooser')
    await alice.page.getByRole('button', { name: 'Attach file' }).click()
    await (await chooser).setFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png })
    await alice.page.getByText('sunset.png').waitFor()
    const box = alice.page.getByRole('textbox', { name: 'Message' })
    await box.fill('Sunset from the balcony')
    await box.press('Enter')
    const received = bob.page.getByRole('img', { name: 'Picture: Sunset from the balcony' })
    await received.waitFor()
    await expect
      .poll(() => received.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0)
    await bob.page.getByRole('button', { name: 'Open picture' }).click()
    await bob.page.getByRole('dialog', { name: 'Picture' }).waitFor()
    await bob.page.keyboard.press('Escape')
    await bob.page.getByRole('dialog', { name: 'Picture' }).waitFor({ state: 'detached' })
  })

  it('edit with the Up arrow, see the history, react, and delete for everyone', {
    timeout: 60_000,
  }, async () => {
    await send(alice.page, 'Lunch at 12?')
    await bubble(bob.page, 'Lunch at 12?').waitFor()

    // Up in an empty composer edits your last message; Enter saves.
    const box = alice.page.getByRole('textbox', { name: 'Message' })
    await box.press('ArrowUp')
    const editBox = alice.page.getByRole('textbox', { name: 'Edit message' })
    await editBox.fill('Lunch at 1?')
    await editBox.press('Enter')
    const edited = bubble(bob.page, 'Lunch at 1?')
    await edited.getByRole('button', { name: /Edited/ }).waitFor()
    await edited.getByRole('button', { name: /Edited/ }).click()
    const history = bob.page.getByRole('dialog', { name: 'Edit history' })
    await history.getByText('Lunch at 12?').waitFor()
    await bob.page.keyboard.press('Escape')

    // Bob reacts; Alice sees who.
    await edited.hover()
    await edited.getByRole('button', { name: 'React with 👍' }).click()
    await bubble(alice.page, 'Lunch at 1?')
      .getByRole('button', { name: /👍 1: Bob Tester/ })
      .waitFor()

    // Any emoji, from the full picker; it opens next to the message, inside the window. (A reaction
    // chosen hides the toolbar until the pointer leaves the message and comes back.)
    await bob.page.mouse.move(1, 1)
    await edited.hover()
    await edited.getByRole('button', { name: 'More reactions' }).click()
    const picker = bob.page.getByRole('dialog', { name: 'Choose an emoji' })
    const placed = (await picker.boundingBox())!
    expect(placed.y).toBeGreaterThanOrEqual(0)
    expect(placed.y + placed.height).toBeLessThanOrEqual(720)
    await picker.getByRole('combobox', { name: 'Search' }).fill('party popper')
    await picker
      .getByRole('option', { name: /party popper/ })
      .first()
      .click()
    await bubble(alice.page, 'Lunch at 1?')
      .getByRole('button', { name: /🎉 1: Bob Tester/ })
      .waitFor()

    // Closing a dialog puts focus back where it was.
    await alice.page.getByRole('button', { name: 'Settings' }).click()
    await alice.page.getByRole('dialog', { name: 'Settings' }).waitFor()
    await alice.page.keyboard.press('Escape')
    await expect
      .poll(() => alice.page.getByRole('button', { name: 'Settings' }).evaluate((el) => el.matches(':focus')))
      .toBe(true)

    await screenshots(alice.page, 'conversation')
    await screenshots(bob.page, 'conversation-bob')

    // Alice deletes it for everyone.
    const mine = bubble(alice.page, 'Lunch at 1?')
    await mine.hover()
    await mine.getByRole('button', { name: 'Delete message' }).click()
    await alice.page.getByRole('button', { name: 'Delete for everyone' }).click()
    await messageLog(bob.page).getByText('This message was deleted').waitFor()
    expect(await bubble(bob.page, 'Lunch at 1?').count()).toBe(0)
  })

  it('presence changes when one goes away', { timeout: 40_000 }, async () => {
    const header = alice.page.getByRole('button', { name: 'Profile of Bob Tester' })
    await header.getByText('online', { exact: true }).waitFor()
    await bob.quit()
    await header.getByText(/last seen/).waitFor()
  })
})
