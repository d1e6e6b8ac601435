import { dmKey } from '@parley/shared'
import type { Locator, Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bubble,
  canRunE2e,
  chatRow,
  connect,
  idOf,
  messageLog,
  openChat,
  type Person,
  screenshots,
  send,
  until,
  World,
} from './harness'

/** The browser globals the page-side callbacks use (this package is typed without the DOM lib). */
interface PageGlobals {
  atob(data: string): string
  File: new (parts: unknown[], name: string, options: { type: string }) => unknown
  DataTransfer: new () => { items: { add(file: unknown): void } }
  ClipboardEvent: new (type: string, init: Record<string, unknown>) => unknown
  document: { activeElement: { blur(): void } | null }
}

/** A DataTransfer holding one PNG file, made in the page (as the OS would hand it over). */
function pictureTransfer(page: Page, name: string, png: Buffer) {
  return page.evaluateHandle(
    ([fileName, base64]) => {
      const web = globalThis as unknown as PageGlobals
      const bytes = Uint8Array.from(web.atob(base64), (c) => c.charCodeAt(0))
      const transfer = new web.DataTransfer()
      transfer.items.add(new web.File([bytes], fileName, { type: 'image/png' }))
      return transfer
    },
    [name, png.toString('base64')] as const,
  )
}

function picture(r: number, g: number, b: number): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 200, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer()
}

function focused(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el.matches(':focus'))
}

/** Whether any part of the element is inside the message list's visible area. */
async function inView(page: Page, element: Locator): Promise<boolean> {
  if ((await element.count()) === 0) return false
  const box = await element.boundingBox()
  const log = (await messageLog(page).boundingBox())!
  return !!box && box.y + box.height > log.y && box.y < log.y + log.height
}

/** Whether the element shows up within a short while (for checks that let the story go on). */
async function showsUp(element: Locator, timeout = 3000): Promise<boolean> {
  return element.waitFor({ timeout }).then(
    () => true,
    () => false,
  )
}

/** Presses Tab (or Shift+Tab) until `target` has the focus; how many presses it took, or null. */
async function tabTo(page: Page, target: Locator, key: 'Tab' | 'Shift+Tab', limit: number) {
  for (let presses = 1; presses <= limit; presses++) {
    await page.keyboard.press(key)
    if ((await target.count()) > 0 && (await focused(target.first()))) return presses
  }
  return null
}

describe.skipIf(!canRunE2e)('the composer in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await world.registered('Alice', 'Bob', 'Carol')
    await connect(alice, bob)
    await connect(alice, carol)
    await openChat(bob.page, 'Alice')
    await openChat(carol.page, 'Alice')
    await openChat(alice.page, 'Bob')
  }, 90_000)
  afterAll(() => world.stop(), 60_000)

  it('Shift+Enter starts a new line and Enter sends both lines', { timeout: 20_000 }, async () => {
    const box = alice.page.getByRole('textbox', { name: 'Message' })
    await box.click()
    await alice.page.keyboard.type('First line')
    await alice.page.keyboard.press('Shift+Enter')
    await alice.page.keyboard.type('second line')
    expect(await box.inputValue()).toBe('First line\nsecond line')
    expect(await bubble(alice.page, /First line/).count()).toBe(0)
    await alice.page.keyboard.press('Enter')
    const received = bob.page.getByRole('log').getByText(/First line/)
    await received.waitFor()
    // biome-ignore lint/performance/useDomNodeTextContent: as rendered is the point: two lines, not one
    expect(await received.innerText()).toBe('First line\nsecond line')
    expect(await box.inputValue()).toBe('')
  })

  it('the emoji picker puts the emoji where the cursor is', { timeout: 30_000 }, async () => {
    const page = alice.page
    const box = page.getByRole('textbox', { name: 'Message' })
    await box.fill('I  you')
    await box.press('Home')
    await box.press('ArrowRight')
    await box.press('ArrowRight')
    await page.getByRole('button', { name: 'Emoji' }).click()
    const picker = page.getByRole('dialog', { name: 'Choose an emoji' })
    await picker.getByRole('combobox', { name: 'Search' }).fill('red heart')
    const heart = picker.getByRole('option', { name: /(^|, )red heart(,|$)/ }).first()
    await heart.waitFor()
    await screenshots(page, 'composer')
    await heart.click()
    await expect.poll(() => box.inputValue()).toMatch(/^I ❤\uFE0F? you$/u)
    // Escape closes the picker and leaves the text as it is.
    await page.keyboard.press('Escape')
    await picker.waitFor({ state: 'detached' })
    // …and the keyboard is back on the button that opened it.
    const emojiButton = page.getByRole('button', { name: 'Emoji' })
    await expect
      .poll(() =>
        emojiButton.evaluate((element) => {
          const node = element as unknown as { ownerDocument: { activeElement: unknown } }
          return node.ownerDocument.activeElement === node
        }),
      )
      .toBe(true)
    await box.press('End')
    await box.press('Enter')
    await bob.page
      .getByRole('log')
      .getByText(/^I ❤\uFE0F? you$/u)
      .waitFor()
  })

  it('a pasted picture shows as an attachment and is sent with its caption', {
    timeout: 30_000,
  }, async () => {
    const page = alice.page
    const box = page.getByRole('textbox', { name: 'Message' })
    const clipboard = await pictureTransfer(page, 'image.png', await picture(60, 120, 220))
    await box.evaluate((textarea, transfer) => {
      const web = globalThis as unknown as PageGlobals
      const paste = new web.ClipboardEvent('paste', {
        clipboardData: transfer,
        bubbles: true,
        cancelable: true,
      })
      ;(textarea as unknown as { dispatchEvent(event: unknown): boolean }).dispatchEvent(paste)
    }, clipboard)
    await page.getByText('image.png').waitFor()
    await page.getByRole('button', { name: 'Remove picture' }).waitFor()
    expect(await box.getAttribute('placeholder')).toBe('Add a caption…')
    await box.fill('Straight from the clipboard')
    await box.press('Enter')
    await bob.page.getByRole('img', { name: 'Picture: Straight from the clipboard' }).waitFor()
    await page.getByRole('button', { name: 'Remove picture' }).waitFor({ state: 'detached' })
  })

  it('a picture dropped on the conversation is attached, and Escape takes it off', {
    timeout: 30_000,
  }, async () => {
    const page = alice.page
    const picturesBobHas = await bob.page.getByRole('img', { name: /^Picture/ }).count()
    const log = messageLog(page)
    const files = await pictureTransfer(page, 'beach.png', await picture(230, 200, 120))
    await log.dispatchEvent('dragenter', { dataTransfer: files })
    await log.dispatchEvent('dragover', { dataTransfer: files })
    await page.getByText('Drop a picture to send it to Bob Tester').waitFor()
    await log.dispatchEvent('drop', { dataTransfer: files })
    await page.getByText('Drop a picture to send it to Bob Tester').waitFor({ state: 'detached' })
    await page.getByText('beach.png').waitFor()

    const box = page.getByRole('textbox', { name: 'Message' })
    expect(await focused(box)).toBe(true)
    await box.press('Escape')
    await page.getByText('beach.png').waitFor({ state: 'detached' })
    expect(await page.getByRole('button', { name: 'Remove picture' }).count()).toBe(0)
    await page.waitForTimeout(300)
    expect(await bob.page.getByRole('img', { name: /^Picture/ }).count()).toBe(picturesBobHas)
  })

  it('Escape cancels an edit and gives back the draft you had', { timeout: 30_000 }, async () => {
    const page = alice.page
    await send(page, 'Meet at the station')
    await bubble(bob.page, 'Meet at the station').waitFor()
    const box = page.getByRole('textbox', { name: 'Message' })
    await box.fill('half a plan')

    const mine = bubble(page, 'Meet at the station')
    await mine.hover()
    await mine.getByRole('button', { name: 'Edit message' }).click()
    const editBox = page.getByRole('textbox', { name: 'Edit message' })
    await expect.poll(() => editBox.inputValue()).toBe('Meet at the station')
    await editBox.press('End')
    await editBox.pressSequentially(' at six')
    await editBox.press('Escape')
    await expect.poll(() => box.inputValue()).toBe('half a plan')
    expect(await page.getByRole('button', { name: 'Cancel editing' }).count()).toBe(0)
    await page.waitForTimeout(300)
    expect(
      await bubble(page, 'Meet at the station')
        .getByRole('button', { name: /Edited/ })
        .count(),
    ).toBe(0)
    expect(await bubble(bob.page, 'Meet at the station').count()).toBe(1)
    await box.fill('')
  })

  it('a draft stays with its conversation while you visit another', { timeout: 30_000 }, async () => {
    const page = alice.page
    await openChat(page, 'Bob')
    const box = page.getByRole('textbox', { name: 'Message' })
    await box.fill('Note for Bob')
    await openChat(page, 'Carol')
    await page.getByRole('log', { name: 'Messages with Carol Tester' }).waitFor()
    expect(await box.inputValue()).toBe('')
    // The chat list says what is waiting there (soft, so the rest of the story still runs).
    expect
      .soft(await showsUp(chatRow(page, 'Bob').getByText('Note for Bob')), 'draft in the chat list')
      .toBe(true)

    await box.fill('Note for Carol')
    await openChat(page, 'Bob')
    await page.getByRole('log', { name: 'Messages with Bob Tester' }).waitFor()
    await expect.poll(() => box.inputValue()).toBe('Note for Bob')
    expect
      .soft(await showsUp(chatRow(page, 'Carol').getByText('Note for Carol')), 'draft in the chat list')
      .toBe(true)
    await openChat(page, 'Carol')
    await expect.poll(() => box.inputValue()).toBe('Note for Carol')

    // Sent, the draft is gone.
    await box.press('Enter')
    await bubble(carol.page, 'Note for Carol').waitFor()
    await openChat(page, 'Bob')
    await expect.poll(() => box.inputValue()).toBe('Note for Bob')
    await box.fill('')
  })

  it('Jump to latest counts what arrives while you read back, and takes you to it', {
    timeout: 40_000,
  }, async () => {
    const page = alice.page
    await openChat(page, 'Bob')
    const aliceId = await idOf(bob, alice.username)
    for (let i = 1; i <= 50; i++) {
      const sent = await bob.host.core.call('messages.send', {
        conversation: dmKey(aliceId),
        text: `older news ${i}`,
      })
      if (!sent.ok) throw new Error(sent.error.message)
    }
    await bubble(page, 'older news 50').waitFor()
    await until(
      async () =>
        (await chatRow(page, 'Bob')
          .getByLabel(/unread/)
          .count()) === 0,
    )

    // Alice scrolls back with the wheel, as people do.
    await messageLog(page).hover()
    await page.mouse.wheel(0, -2500)
    const jump = page.getByRole('button', { name: /^Jump to latest/ })
    await jump.waitFor()
    await send(bob.page, 'Are you there?')
    await send(bob.page, 'Hello?')
    await page.getByRole('button', { name: 'Jump to latest, 2 unread' }).waitFor()
    expect(await inView(page, bubble(page, 'Hello?'))).toBe(false)

    await jump.click()
    await expect.poll(() => inView(page, bubble(page, 'Hello?'))).toBe(true)
    await jump.waitFor({ state: 'detached' })
    await until(
      async () =>
        (await chatRow(page, 'Bob')
          .getByLabel(/unread/)
          .count()) === 0,
    )
  })

  it('keyboard alone: Ctrl+K opens a chat, Tab reaches the composer, E edits, Ctrl+F searches', {
    timeout: 40_000,
  }, async () => {
    const page = alice.page
    // The mouse is put aside (a pointer left over a message shows its toolbar, adding tab stops).
    await page.mouse.move(1, 1)
    await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.blur())
    await page.keyboard.press('Control+k')
    const switcher = page.getByRole('dialog', { name: 'Go to chat' })
    await switcher.getByRole('combobox', { name: 'Chat name' }).pressSequentially('car')
    await page.keyboard.press('Enter')
    await page.getByRole('log', { name: 'Messages with Carol Tester' }).waitFor()
    const box = page.getByRole('textbox', { name: 'Message' })
    await expect.poll(() => focused(box)).toBe(true)

    // From nowhere in particular, Tab alone gets to the composer.
    await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.blur())
    expect(await tabTo(page, box, 'Tab', 40)).not.toBeNull()
    await page.keyboard.type('Typed without a mouse')
    await page.keyboard.press('Enter')
    await bubble(carol.page, 'Typed without a mouse').waitFor()

    // Back up to the message, E to edit it.
    const message = bubble(page, 'Typed without a mouse')
    expect(await tabTo(page, message, 'Shift+Tab', 10)).not.toBeNull()
    await page.keyboard.press('e')
    const editBox = page.getByRole('textbox', { name: 'Edit message' })
    await expect.poll(() => focused(editBox)).toBe(true)
    expect(await editBox.inputValue()).toBe('Typed without a mouse')
    await page.keyboard.press('Control+a')
    await page.keyboard.type('Edited without a mouse')
    await page.keyboard.press('Enter')
    await bubble(carol.page, 'Edited without a mouse')
      .getByRole('button', { name: /Edited/ })
      .waitFor()

    // From the message, Enter goes into its toolbar (the list is one Tab stop): react with Enter.
    const edited = bubble(page, 'Edited without a mouse')
    expect(await tabTo(page, edited, 'Shift+Tab', 10)).not.toBeNull()
    const thumbsUp = edited.getByRole('button', { name: 'React with 👍' })
    await page.keyboard.press('Enter')
    const reached = await thumbsUp.count().then((n) => n > 0 && focused(thumbsUp))
    // Soft, so that Ctrl+F below is still tried when this fails.
    expect.soft(reached, 'Enter on a message reaches its toolbar').toBe(true)
    if (reached) {
      await page.keyboard.press('Enter')
      await bubble(carol.page, 'Edited without a mouse')
        .getByRole('button', { name: /👍 1: Alice Tester/ })
        .waitFor()
    }

    // Ctrl+F from anywhere: filter the chats, Down to the result, Enter opens it.
    await page.keyboard.press('Control+f')
    const search = page.getByRole('searchbox', { name: 'Search chats and messages' })
    await expect.poll(() => focused(search)).toBe(true)
    await page.keyboard.type('bob')
    await chatRow(page, 'Bob').waitFor()
    await page.keyboard.press('ArrowDown')
    expect(await focused(chatRow(page, 'Bob'))).toBe(true)
    await page.keyboard.press('Enter')
    await page.getByRole('log', { name: 'Messages with Bob Tester' }).waitFor()
    await expect.poll(() => focused(box)).toBe(true)
  })
})
