import type { Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bubble,
  canRunE2e,
  clipboardText,
  idOf,
  messageMenu,
  openChat,
  type Person,
  screenshots,
  send,
  World,
  write,
} from './harness'

interface PageGlobals {
  document: {
    activeElement: { textContent: string | null; getAttribute(name: string): string | null } | null
  }
}

const clipboard = clipboardText

/** The accessible name or the text of the focused element. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const active = (globalThis as unknown as PageGlobals).document.activeElement
    return active?.getAttribute('aria-label') ?? active?.textContent?.trim() ?? null
  })

const menuOf = messageMenu

/** The menu's items under its reactions row. */
async function items(menu: Locator): Promise<string[]> {
  return (await menu.locator(':scope > [role="menuitem"]').allTextContents()).map((text) => text.trim())
}

async function insideWindow(page: Page, locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox()
  const size = page.viewportSize()!
  return (
    !!box && box.x >= 0 && box.y >= 0 && box.x + box.width <= size.width && box.y + box.height <= size.height
  )
}

describe.skipIf(!canRunE2e)('the message menu, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.contacts('Alice', 'Bob')
    await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'])
    await openChat(alice.page, 'Bob')
    await openChat(bob.page, 'Alice')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('right-click opens it with what can be done to the message; Copy text reaches the clipboard', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    await write(bob.page, 'Meet at the *north* entrance')
    const theirs = page.getByRole('log').locator('article.message').filter({ hasText: 'Meet at the north' })
    await theirs.waitFor()
    await theirs.locator('.bubble').click({ button: 'right' })
    const menu = menuOf(page)
    await menu.waitFor()
    expect(await items(menu)).toEqual([
      'Reply',
      'Forward…',
      'Copy text',
      'Copy link',
      'Info',
      'Delete for me',
    ])
    expect(await menu.getByRole('menuitem', { name: 'React with 👍' }).count()).toBe(1)
    await menu.getByRole('menuitem', { name: 'Copy text' }).click()
    await menu.waitFor({ state: 'detached' })
    expect(await clipboard(page)).toBe('Meet at the *north* entrance')

    // One's own message offers editing and deleting too.
    await send(page, 'On my way')
    await bubble(page, 'On my way').locator('.bubble').click({ button: 'right' })
    expect(await items(menu)).toEqual([
      'Reply',
      'Forward…',
      'Copy text',
      'Copy link',
      'Edit',
      'Info',
      'Delete for me',
      'Delete for everyone',
    ])
    await menu.getByRole('menuitem', { name: 'Copy link' }).click()
    // A link to the message itself, by the relay's id.
    const newest = await alice.host.core.call('messages.page', {
      conversation: `dm:${await idOf(alice, bob.username)}`,
      limit: 1,
    })
    if (!newest.ok) throw new Error(newest.error.message)
    expect(await clipboard(page)).toBe(`parley://message/${newest.value.messages[0]?.id}`)
  })

  it('stays inside the window, even opened at its bottom-right corner', { timeout: 30_000 }, async () => {
    const page = alice.page
    const own = await bubble(page, 'On my way').locator('.bubble').boundingBox()
    await page.mouse.click(own!.x + own!.width - 2, own!.y + own!.height - 2, { button: 'right' })
    await menuOf(page).waitFor()
    expect(await insideWindow(page, menuOf(page))).toBe(true)
    await screenshots(page, 'message-menu')
    await page.keyboard.press('Escape')
    await menuOf(page).waitFor({ state: 'detached' })
  })

  it('from the keyboard: Shift+F10 opens it, arrows move, Enter chooses, Escape gives the focus back', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    await page.mouse.move(1, 1)
    await page.getByRole('button', { name: 'Attach file' }).focus()
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('End')
    await page.keyboard.press('Shift+F10')
    const menu = menuOf(page)
    await menu.waitFor()
    expect(await focused(page)).toBe('React with 👍')
    await page.keyboard.press('ArrowRight')
    expect(await focused(page)).toBe('React with ❤️')
    await page.keyboard.press('ArrowDown')
    expect(await focused(page)).toBe('Reply')
    await page.keyboard.press('ArrowDown')
    expect(await focused(page)).toBe('Forward…')
    await page.keyboard.press('ArrowDown')
    expect(await focused(page)).toBe('Copy text')
    await page.keyboard.press('ArrowDown')
    expect(await focused(page)).toBe('Copy link')
    await page.keyboard.press('End')
    expect(await focused(page)).toBe('Delete for everyone')
    await page.keyboard.press('ArrowDown')
    expect(await focused(page)).toBe('React with 👍')
    await page.keyboard.press('Escape')
    await menu.waitFor({ state: 'detached' })
    const message = bubble(page, 'On my way')
    expect(await focused(page)).toBe(await message.getAttribute('aria-label'))

    // The menu key opens it too; Copy text with Enter.
    await page.keyboard.press('ContextMenu')
    await menu.waitFor()
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    await menu.waitFor({ state: 'detached' })
    expect(await clipboard(page)).toBe('On my way')
    expect(await focused(page)).toBe(await message.getAttribute('aria-label'))
  })

  it('the toolbar’s More opens it; Edit and then Info show the times and the earlier version', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    const message = bubble(page, 'On my way')
    await message.hover()
    await message.getByRole('button', { name: 'More actions' }).click()
    await menuOf(page).getByRole('menuitem', { name: 'Edit' }).click()
    const edit = page.getByRole('textbox', { name: 'Edit message' })
    await edit.fill('On my way, 5 minutes')
    await edit.press('Enter')
    const edited = bubble(page, 'On my way, 5 minutes')
    await edited.getByRole('img', { name: 'Read' }).waitFor()

    await edited.locator('.bubble').click({ button: 'right' })
    await menuOf(page).getByRole('menuitem', { name: 'Info' }).click()
    const info = page.getByRole('dialog', { name: 'Message info' })
    await info.waitFor()
    const row = (term: string) => info.locator(`dt:text-is("${term}") + dd`)
    expect(await row('Sent').textContent()).toMatch(/\d{1,2}:\d{2}/)
    // When Bob's app received it and when he read it, as the relay noted them.
    const clock = /\d{1,2}:\d{2}/
    await row('Read').filter({ hasText: clock }).waitFor()
    expect(await row('Delivered').textContent()).toMatch(clock)
    expect(await row('Edited').textContent()).toMatch(clock)
    await info.getByRole('list', { name: 'Versions' }).getByText('On my way', { exact: true }).waitFor()
    await screenshots(page, 'message-info')
    await page.keyboard.press('Escape')
    await info.waitFor({ state: 'detached' })

    // Offline, the times this device heard of still show, and it says where they come from.
    alice.proxy.goOffline()
    try {
      await edited.locator('.bubble').click({ button: 'right' })
      await menuOf(page).getByRole('menuitem', { name: 'Info' }).click()
      await info.getByText("You're offline").waitFor()
      expect(await row('Read').textContent()).toMatch(clock)
      expect(await row('Delivered').textContent()).toMatch(clock)
      await screenshots(page, 'message-info-offline')
      await page.keyboard.press('Escape')
      await info.waitFor({ state: 'detached' })
    } finally {
      alice.proxy.goOnline()
    }

    // A message Alice received: when it reached her and when she read it.
    const theirs = page.getByRole('log').locator('article.message').filter({ hasText: 'Meet at the north' })
    await theirs.locator('.bubble').click({ button: 'right' })
    await menuOf(page).getByRole('menuitem', { name: 'Info' }).click()
    await info.waitFor()
    await row('Read').filter({ hasText: clock }).waitFor()
    expect(await row('Received').textContent()).toMatch(clock)
    expect(await row('From').textContent()).toContain('Bob')
    await page.keyboard.press('Escape')
    await info.waitFor({ state: 'detached' })
  })
})
