import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { dmKey } from '@parley/shared'
import type { Locator, Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bubble,
  canRunE2e,
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
interface PageElement {
  tabIndex: number
  hasAttribute(name: string): boolean
  matches(selector: string): boolean
  closest(selector: string): PageElement | null
  querySelector(selector: string): { textContent: string | null } | null
  querySelectorAll(selector: string): Iterable<PageElement>
}
interface PageGlobals {
  document: { activeElement: PageElement | null }
}

/** How many elements inside `container` the Tab key stops at. */
function tabStops(container: Locator): Promise<number> {
  return container.evaluate((root) => {
    const all = (root as unknown as PageElement).querySelectorAll(
      'a[href], button, input, textarea, select, [tabindex], [contenteditable="true"]',
    )
    return [...all].filter((el) => el.tabIndex >= 0 && !el.hasAttribute('disabled')).length
  })
}

/** The text of the message that has the keyboard focus, or null when the focus is not on a message. */
function focusedMessage(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const active = (globalThis as unknown as PageGlobals).document.activeElement
    if (!active?.matches('article.message') || !active.closest('[role="log"]')) return null
    return active.querySelector('.text')?.textContent ?? ''
  })
}

/** The accessible name of the focused element, to tell buttons apart. */
function focusedLabel(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const active = (globalThis as unknown as PageGlobals).document.activeElement as unknown as {
      getAttribute(name: string): string | null
    } | null
    return active?.getAttribute('aria-label') ?? null
  })
}

/** Whether all of the element is inside the message list's visible area. */
async function wholeInView(page: Page, element: Locator): Promise<boolean> {
  const box = await element.boundingBox()
  const log = (await messageLog(page).boundingBox())!
  return !!box && box.y >= log.y - 1 && box.y + box.height <= log.y + log.height + 1
}

interface Box {
  x: number
  y: number
  width: number
  height: number
}
const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height

describe.skipIf(!canRunE2e)('the message list from the keyboard, and its toolbar, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.registered('Alice', 'Bob')
    await connect(alice, bob)
    // More than a page (100) and far more than a screen, so most messages are virtualized away.
    const aliceId = await idOf(bob, alice.username)
    for (let i = 1; i <= 150; i++) {
      const sent = await bob.host.core.call('messages.send', {
        conversation: dmKey(aliceId),
        text: `note ${i}`,
      })
      if (!sent.ok) throw new Error(sent.error.message)
    }
    const bobId = await idOf(alice, bob.username)
    await until(async () => {
      const latest = await alice.host.core.call('messages.page', { conversation: dmKey(bobId), limit: 1 })
      return latest.ok && latest.value.messages[0]?.text === 'note 150'
    }, 30_000)
    await openChat(alice.page, 'Bob')
    await openChat(bob.page, 'Alice')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('the list is one Tab stop, and arrows, Page Up/Down, Home and End move from message to message', {
    timeout: 40_000,
  }, async () => {
    const page = alice.page
    await send(page, 'Mine, the newest')
    await page.mouse.move(1, 1)
    expect(await tabStops(messageLog(page))).toBe(1)

    // Shift+Tab from the composer (its first control) lands on the newest message; Tab goes back.
    const composer = page.getByRole('button', { name: 'Attach file' })
    const inComposer = () => composer.evaluate((el) => el.matches(':focus'))
    await composer.focus()
    await page.keyboard.press('Shift+Tab')
    expect(await focusedMessage(page)).toBe('Mine, the newest')
    expect(await tabStops(messageLog(page))).toBe(1)
    await page.keyboard.press('Tab')
    expect(await inComposer()).toBe(true)
    await page.keyboard.press('Shift+Tab')
    expect(await focusedMessage(page)).toBe('Mine, the newest')

    await page.keyboard.press('ArrowUp')
    expect(await focusedMessage(page)).toBe('note 150')
    await page.keyboard.press('ArrowUp')
    expect(await focusedMessage(page)).toBe('note 149')
    await page.keyboard.press('ArrowDown')
    expect(await focusedMessage(page)).toBe('note 150')

    // A screenful up: a message well above, brought into view.
    // (A message brought in from far away is focused once it is mounted and measured: a frame or two.)
    await page.keyboard.press('PageUp')
    await expect.poll(() => focusedMessage(page)).not.toBe('note 150')
    const up = Number((await focusedMessage(page))?.replace('note ', ''))
    expect(up).toBeLessThan(145)
    expect(up).toBeGreaterThan(100)
    // Scrolled into view as it is focused; on a busy machine that lands a frame or two later.
    await expect.poll(() => wholeInView(page, bubble(page, `note ${up}`))).toBe(true)
    await page.keyboard.press('PageDown')
    await expect.poll(() => focusedMessage(page)).not.toBe(`note ${up}`)
    const down = Number((await focusedMessage(page))?.replace('note ', ''))
    expect(down).toBeGreaterThan(up + 4)

    // Home: the oldest message loaded so far, however far it was virtualized away.
    await page.keyboard.press('Home')
    await expect.poll(() => focusedMessage(page)).toBe('note 51')
    await expect.poll(() => wholeInView(page, bubble(page, 'note 51'))).toBe(true)
    expect(await tabStops(messageLog(page))).toBe(1)
    // Up from there goes on into older messages as they load.
    await page.keyboard.press('ArrowUp')
    await expect.poll(() => focusedMessage(page)).toBe('note 50')

    // End: the newest.
    await page.keyboard.press('End')
    await expect.poll(() => focusedMessage(page)).toBe('Mine, the newest')
    await expect.poll(() => wholeInView(page, bubble(page, 'Mine, the newest'))).toBe(true)

    // Leaving the list and coming back finds the message you were on; Shift+Tab goes on to the header.
    await page.keyboard.press('ArrowUp')
    await page.keyboard.press('Tab')
    expect(await inComposer()).toBe(true)
    await page.keyboard.press('Shift+Tab')
    expect(await focusedMessage(page)).toBe('note 150')
    await page.keyboard.press('Shift+Tab')
    expect(
      await page.getByRole('button', { name: 'Contact info' }).evaluate((el) => el.matches(':focus')),
    ).toBe(true)
  })

  it('Enter or Shift+F10 on a message reaches its actions, arrows move along them, Escape comes back', {
    timeout: 40_000,
  }, async () => {
    const page = alice.page
    await send(page, 'React to me')
    await page.mouse.move(1, 1)
    await page.getByRole('button', { name: 'Attach file' }).focus()
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('End')
    await expect.poll(() => focusedMessage(page)).toBe('React to me')

    await page.keyboard.press('Enter')
    expect(await focusedLabel(page)).toBe('React with 👍')
    await page.keyboard.press('ArrowRight')
    expect(await focusedLabel(page)).toBe('React with ❤️')
    await page.keyboard.press('End')
    expect(await focusedLabel(page)).toBe('Delete message')
    await page.keyboard.press('ArrowRight')
    expect(await focusedLabel(page)).toBe('React with 👍')
    await page.keyboard.press('Escape')
    expect(await focusedMessage(page)).toBe('React to me')

    await page.keyboard.press('Shift+F10')
    expect(await focusedLabel(page)).toBe('React with 👍')
    await page.keyboard.press('Enter')
    await bubble(bob.page, 'React to me')
      .getByRole('button', { name: /👍 1: Alice Tester/ })
      .waitFor()
    // Chosen: the focus is back on the message, and its toolbar has gone.
    await expect.poll(() => focusedMessage(page)).toBe('React to me')
    expect(await page.getByRole('toolbar').count()).toBe(0)

    // The single-key shortcuts still work on a focused message: E edits.
    await page.keyboard.press('e')
    const editBox = page.getByRole('textbox', { name: 'Edit message' })
    await expect.poll(() => editBox.evaluate((el) => el.matches(':focus'))).toBe(true)
    await page.keyboard.press('Escape')

    // On a picture, Enter opens the picture; its actions are on Shift+F10.
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7' } })
      .png()
      .toBuffer()
    const aliceId = await idOf(bob, alice.username)
    const sent = await bob.host.core.call('messages.sendImage', {
      conversation: dmKey(aliceId),
      dataBase64: png.toString('base64'),
      text: 'A picture to open',
    })
    if (!sent.ok) throw new Error(sent.error.message)
    await bubble(page, 'A picture to open').waitFor()
    await page.getByRole('button', { name: 'Attach file' }).focus()
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('End')
    await expect.poll(() => focusedMessage(page)).toBe('A picture to open')
    await page.keyboard.press('Enter')
    await page.getByRole('dialog', { name: 'Picture' }).waitFor()
    await page.keyboard.press('Escape')
    await page.getByRole('dialog', { name: 'Picture' }).waitFor({ state: 'detached' })
    await expect.poll(() => focusedMessage(page)).toBe('A picture to open')
    await page.keyboard.press('Shift+F10')
    expect(await focusedLabel(page)).toBe('React with 👍')
    await page.keyboard.press('Escape')
    expect(await focusedMessage(page)).toBe('A picture to open')
  })

  it('the hover toolbar covers no other message’s text or time, and only one is ever shown', {
    timeout: 40_000,
  }, async () => {
    const page = alice.page
    const long = (who: string) =>
      `${who} writes a long line that fills the bubble to its widest, so that nothing is left beside it`
    const middling = (who: string) => `${who} again, with a line of middling length`
    // Runs of messages from one sender sit close together: the toolbar has no gap to go in.
    await send(page, long('Alice'))
    await send(page, middling('Alice'))
    await send(bob.page, long('Bob'))
    await send(bob.page, middling('Bob'))
    await bubble(page, middling('Bob')).waitFor()
    await send(page, 'short')
    await send(bob.page, 'ok')
    await bubble(page, 'ok').waitFor()
    await screenshots(page, 'message-list')

    const messages = messageLog(page).locator('article.message')
    const count = await messages.count()
    // Every message on screen, hovered in turn: its toolbar stays off its neighbours' words and times.
    const texts = [
      long('Alice'),
      middling('Alice'),
      long('Bob'),
      middling('Bob'),
      'short',
      'ok',
      'React to me',
    ]
    for (const text of texts) {
      const message = bubble(page, text)
      await message.hover()
      const toolbar = message.getByRole('toolbar', { name: 'Message actions' })
      await toolbar.waitFor()
      expect(await page.getByRole('toolbar').count()).toBe(1)
      const placed = (await toolbar.boundingBox())!
      for (let i = 0; i < count; i++) {
        const other = messages.nth(i)
        if ((await other.getAttribute('data-local-id')) === (await message.getAttribute('data-local-id')))
          continue
        for (const part of [other.locator('.text'), other.locator('time')]) {
          if ((await part.count()) === 0) continue
          const partBox = await part.boundingBox()
          if (!partBox) continue
          expect(overlaps(placed, partBox), `toolbar of “${text}” over ${await part.textContent()}`).toBe(
            false,
          )
        }
      }
    }
    await page.mouse.move(1, 1)
    await screenshotHovering(page, bubble(page, long('Bob')), 'message-toolbar-incoming')
    await screenshotHovering(page, bubble(page, 'short'), 'message-toolbar-mine')

    // A reaction chosen from the toolbar takes the toolbar away, and the next message hovered has the only one.
    const ok = bubble(page, 'ok')
    await ok.hover()
    await ok.getByRole('button', { name: 'React with 😂' }).click()
    await ok.getByRole('button', { name: /😂 1: You/ }).waitFor()
    expect(await page.getByRole('toolbar').count()).toBe(0)
    await bubble(page, 'short').hover()
    await bubble(page, 'short').getByRole('toolbar').waitFor()
    expect(await page.getByRole('toolbar').count()).toBe(1)

    // A message with the keyboard focus and another under the pointer: still one toolbar.
    await page.getByRole('button', { name: 'Attach file' }).focus()
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('End')
    await expect.poll(() => focusedMessage(page)).toBe('ok')
    await bubble(page, long('Bob')).hover()
    await bubble(page, long('Bob')).getByRole('toolbar').waitFor()
    expect(await page.getByRole('toolbar').count()).toBe(1)
    await page.mouse.move(1, 1)
  })
})

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/e2e', import.meta.url))

/** Light and dark pictures of the conversation with the pointer resting on `message`. */
async function screenshotHovering(page: Page, message: Locator, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await message.hover()
  await message.getByRole('toolbar').waitFor()
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.waitForTimeout(100)
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${scheme}.png`) })
  }
  await page.emulateMedia({ colorScheme: 'light' })
}
