import { dmKey } from '@parley/shared'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  canRunE2e,
  chatRow,
  idOf,
  openChat,
  type Person,
  screenshots,
  settled,
  textBubble,
  until,
  World,
  write,
} from './harness'

// Replies and delete for me, as people use them: the message menu's Reply, the composer's "Replying
// to" line (Escape cancels), the quote in the bubble (deleted and missing originals), jumping to an
// original not loaded yet, in a 1:1 chat and a group; Delete for me with its confirm.

const bubble = textBubble
const menuOf = (page: Page) => page.getByRole('menu', { name: 'Message menu' })
const box = (page: Page) => page.getByRole('textbox', { name: 'Message' })

async function choose(page: Page, text: string, item: string) {
  await bubble(page, text).locator('.bubble').click({ button: 'right' })
  await menuOf(page).getByRole('menuitem', { name: item }).click()
}

describe.skipIf(!canRunE2e)('replies and delete for me, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.contacts('Alice', 'Bob')
    await openChat(alice.page, 'Bob')
    await openChat(bob.page, 'Alice')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('Reply from the menu: the composer says to what, Escape cancels, the bubble quotes it on both sides', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    await write(bob.page, 'Dinner at eight?')
    await bubble(page, 'Dinner at eight?').waitFor()
    await choose(page, 'Dinner at eight?', 'Reply')
    const replying = page.getByText('Replying to Bob Tester')
    await replying.waitFor()
    await expect.poll(() => box(page).evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true)
    await page.keyboard.press('Escape')
    await replying.waitFor({ state: 'detached' })

    await choose(page, 'Dinner at eight?', 'Reply')
    await replying.waitFor()
    await screenshots(page, 'reply-composer')
    await write(page, 'Yes, with wine')
    await replying.waitFor({ state: 'detached' })
    const quote = bubble(page, 'Yes, with wine').getByRole('button', {
      name: /^Reply to Bob Tester: Dinner at eight\?/,
    })
    await quote.waitFor()
    // Bob's own message, quoted on his side: "You".
    const theirs = bubble(bob.page, 'Yes, with wine').getByRole('button', {
      name: /^Reply to You: Dinner at eight\?/,
    })
    await theirs.waitFor()
    await screenshots(page, 'reply-quote')

    // Deleted for everyone: the quote says so, without a word of what it said.
    await choose(bob.page, 'Dinner at eight?', 'Delete for everyone')
    await bob.page.getByRole('button', { name: 'Delete for everyone' }).click()
    const deleted = bubble(page, 'Yes, with wine').locator('.quote')
    await until(async () => (await deleted.textContent())?.includes('Deleted message') ?? false)
    expect(await deleted.textContent()).not.toContain('eight')
  })

  it('a quote jumps to its original, loading older history, and marks it', { timeout: 90_000 }, async () => {
    const aliceId = await idOf(bob, alice.username)
    const bobId = await idOf(alice, bob.username)
    await write(bob.page, 'The first plan')
    await bubble(alice.page, 'The first plan').waitFor()
    const original = await alice.host.core.call('messages.page', { conversation: dmKey(bobId), limit: 1 })
    if (!original.ok) throw new Error(original.error.message)
    const originalId = original.value.messages[0]?.id as number
    for (let i = 1; i <= 130; i++) {
      const sent = await bob.host.core.call('messages.send', {
        conversation: dmKey(aliceId),
        text: `filler ${i}`,
      })
      if (!sent.ok) throw new Error(sent.error.message)
    }
    // 130 sends through Bob's outbox and the relay to Alice's window: a busy CI machine needs longer
    // than the default 10 s for that setup (nothing here measures speed).
    await bubble(alice.page, 'filler 130').waitFor({ timeout: 45_000 })
    const reply = await alice.host.core.call('messages.send', {
      conversation: dmKey(bobId),
      text: 'Back to the first plan',
      replyToId: originalId,
    })
    if (!reply.ok) throw new Error(reply.error.message)
    // Opened afresh: only the newest page is loaded, not the original.
    await openChat(alice.page, 'Bob')
    const page = alice.page
    await bubble(page, 'Back to the first plan').waitFor()
    expect(await bubble(page, 'The first plan').count()).toBe(0)
    await bubble(page, 'Back to the first plan')
      .getByRole('button', { name: /Reply to Bob Tester: The first plan/ })
      .click()
    const target = bubble(page, 'The first plan')
    await target.waitFor()
    await until(async () => (await target.locator('.bubble.highlighted').count()) === 1)
    expect(await target.isVisible()).toBe(true)
  })

  it('Delete for me asks, then the message leaves this side only', { timeout: 60_000 }, async () => {
    const page = alice.page
    await write(bob.page, 'Only for your eyes')
    await bubble(page, 'Only for your eyes').waitFor()
    await choose(page, 'Only for your eyes', 'Delete for me')
    const dialog = page.getByRole('dialog', { name: 'Delete message?' })
    await dialog.getByText('removed from your devices only').waitFor()
    await screenshots(page, 'delete-for-me-confirm')
    await dialog.getByRole('button', { name: 'Delete for me' }).click()
    await bubble(page, 'Only for your eyes').waitFor({ state: 'detached' })
    // Bob keeps it; after a reload Alice still does not have it.
    expect(await bubble(bob.page, 'Only for your eyes').count()).toBe(1)
    await page.reload()
    await openChat(page, 'Bob')
    await settled(page)
    expect(await bubble(page, 'Only for your eyes').count()).toBe(0)
  })

  it('in a group: a reply quotes the member by name', { timeout: 60_000 }, async () => {
    const bobId = await idOf(alice, bob.username)
    const made = await alice.host.core.call('groups.create', { title: 'Climbing', memberIds: [bobId] })
    if (!made.ok) throw new Error(made.error.message)
    await chatRow(bob.page, 'Climbing').waitFor()
    await openChat(alice.page, 'Climbing')
    await openChat(bob.page, 'Climbing')
    await write(bob.page, 'Saturday at the crag?')
    await bubble(alice.page, 'Saturday at the crag?').waitFor()
    await choose(alice.page, 'Saturday at the crag?', 'Reply')
    await write(alice.page, 'Count me in')
    await bubble(bob.page, 'Count me in')
      .getByRole('button', { name: /Reply to You: Saturday at the crag\?/ })
      .waitFor()
    await screenshots(bob.page, 'reply-group')
  })
})
