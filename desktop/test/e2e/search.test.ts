import { dmKey } from '@parley/shared'
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
  until,
  World,
} from './harness'

describe.skipIf(!canRunE2e)('search and navigation in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let bobId: number

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.registered('Alice', 'Bob')
    await connect(alice, bob)
    // A long conversation, written through Alice's core (the same outbox the composer uses): the
    // message to find is old enough that opening the chat does not load it.
    bobId = await idOf(alice, bob.username)
    const say = async (text: string) => {
      const sent = await alice.host.core.call('messages.send', { conversation: dmKey(bobId), text })
      if (!sent.ok) throw new Error(sent.error.message)
    }
    await say('message number 1')
    await say('Grandma’s marmalade recipe: oranges, sugar, patience')
    for (let i = 3; i <= 260; i++) await say(`message number ${i}`)
    // Bob's device has all of it before the scenario starts.
    const aliceId = await idOf(bob, alice.username)
    await until(async () => {
      const latest = await bob.host.core.call('messages.page', { conversation: dmKey(aliceId), limit: 1 })
      return latest.ok && latest.value.messages[0]?.text === 'message number 260'
    }, 30_000)
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('Ctrl+F finds a message, and choosing it opens the chat there, highlighted', {
    timeout: 60_000,
  }, async () => {
    const page = bob.page
    await page.locator('body').press('Control+f')
    const search = page.getByRole('searchbox', { name: 'Search chats and messages' })
    await expect.poll(() => search.evaluate((el) => el.matches(':focus'))).toBe(true)
    await search.pressSequentially('marmal')
    const results = page.getByRole('list', { name: 'Message results' })
    const hit = results.getByRole('button', { name: /marmalade/ })
    await hit.waitFor()
    expect(await hit.locator('mark').first().textContent()).toMatch(/^marmal/i)
    await screenshots(page, 'search')
    await hit.click()
    const found = bubble(page, /marmalade recipe/)
    await found.waitFor()
    await expect.poll(() => found.locator('.bubble.highlighted').count()).toBe(1)
    // Scrolling down from there reaches the newest message.
    await page.getByRole('button', { name: /Jump to latest/ }).click()
    await bubble(page, 'message number 260').waitFor()
  })

  it('a result shows the word it found, however long the words before it', { timeout: 30_000 }, async () => {
    const text =
      'Notwithstanding extraordinarily comprehensive internationalization considerations, the needle was found in the haystack after all'
    const sent = await alice.host.core.call('messages.send', { conversation: dmKey(bobId), text })
    if (!sent.ok) throw new Error(sent.error.message)
    const aliceId = await idOf(bob, alice.username)
    await until(async () => {
      const latest = await bob.host.core.call('messages.page', { conversation: dmKey(aliceId), limit: 1 })
      return latest.ok && latest.value.messages[0]?.text === text
    })
    const page = bob.page
    const search = page.getByRole('searchbox', { name: 'Search chats and messages' })
    await search.fill('needle')
    const hit = page.getByRole('list', { name: 'Message results' }).getByRole('button', { name: /needle/ })
    await hit.waitFor()
    await screenshots(page, 'search-snippet')
    const shown = (await hit.locator('.snippet').boundingBox())!
    const found = (await hit.locator('mark').first().boundingBox())!
    expect(await hit.locator('mark').first().textContent()).toBe('needle')
    expect(found.x).toBeGreaterThanOrEqual(shown.x)
    expect(found.x + found.width).toBeLessThanOrEqual(shown.x + shown.width)
    await search.fill('')
  })

  it('older messages load as you scroll up, keeping your place', { timeout: 60_000 }, async () => {
    await openChat(alice.page, 'Bob')
    const log = messageLog(alice.page)
    await bubble(alice.page, 'message number 260').waitFor()
    // One page (100) is loaded at first: going to the top loads the next, and what you were
    // looking at stays where it was on screen.
    const height = () => log.evaluate((el) => el.scrollHeight)
    const firstHeight = await height()
    await log.hover()
    await alice.page.mouse.wheel(0, -20_000)
    const anchor = bubble(alice.page, 'message number 162')
    await anchor.waitFor()
    const before = (await anchor.boundingBox())!.y
    await expect.poll(height).toBeGreaterThan(firstHeight + 1000)
    await alice.page.waitForTimeout(200)
    const after = (await anchor.boundingBox())!.y
    expect(Math.abs(after - before)).toBeLessThan(4)

    // Scrolling on, as a person would, until the oldest shows: a page loads only while the list is
    // scrolled to its top, and on a busy machine a page takes longer than a fixed number of turns.
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline && (await bubble(alice.page, 'message number 1').count()) === 0) {
      await alice.page.mouse.wheel(0, -2000)
      await alice.page.waitForTimeout(120)
    }
    await bubble(alice.page, 'message number 1').waitFor()
  })

  it('Ctrl+K switches chats from the keyboard', { timeout: 30_000 }, async () => {
    const page = bob.page
    await page.getByRole('searchbox', { name: 'Search chats and messages' }).fill('')
    await page.locator('body').press('Control+k')
    const switcher = page.getByRole('dialog', { name: 'Go to chat' })
    await switcher.getByRole('combobox', { name: 'Chat name' }).pressSequentially('ali')
    await switcher.getByRole('option', { name: /Alice Tester/ }).waitFor()
    await page.keyboard.press('Enter')
    await switcher.waitFor({ state: 'detached' })
    await page.getByRole('log', { name: 'Messages with Alice Tester' }).waitFor()
  })
})
