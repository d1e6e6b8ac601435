import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { http } from '../helpers/relay'
import { relayGroupTexts } from '../helpers/relay-truth'
import { threeInAGroup } from './group-scenes'
import { bubble, canRunE2e, chatRow, openChat, type Person, screenshots, send, World } from './harness'

// A group in everyday use, as for a 1:1 chat: unread counts, drafts, search, and writing offline.

describe.skipIf(!canRunE2e)('a group day to day in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await threeInAGroup(world, 'Choir')
    await openChat(alice.page, 'Choir')
    await openChat(carol.page, 'Choir')
    // Bob looks at another chat for now.
    await chatRow(bob.page, 'Choir').waitFor()
    await openChat(bob.page, '^Alice')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('messages Bob has not seen are counted on the group’s row, until he opens it', {
    timeout: 60_000,
  }, async () => {
    await send(carol.page, 'Rehearsal moved to Thursday')
    await send(alice.page, 'Bring the Fauré scores')
    const row = chatRow(bob.page, 'Choir')
    await row.getByLabel('2 unread').waitFor()
    await row.getByText('Alice: Bring the Fauré scores').waitFor()
    await screenshots(bob.page, 'groups-daily-unread')
    await openChat(bob.page, 'Choir')
    await bubble(bob.page, 'Rehearsal moved to Thursday').getByText('Carol Tester').waitFor()
    await row.getByLabel(/unread/).waitFor({ state: 'detached' })
  })

  it('a draft stays with the group while Bob visits another chat', { timeout: 60_000 }, async () => {
    const box = bob.page.getByRole('textbox', { name: 'Message' })
    await box.fill('I can bring the tenor parts')
    await openChat(bob.page, '^Alice')
    await expect.poll(() => box.inputValue()).toBe('')
    await chatRow(bob.page, 'Choir').getByText('I can bring the tenor parts').waitFor()
    await openChat(bob.page, 'Choir')
    await expect.poll(() => box.inputValue()).toBe('I can bring the tenor parts')
    await box.press('Enter')
    await bubble(carol.page, 'I can bring the tenor parts').waitFor()
    await chatRow(bob.page, 'Choir').getByText(/Draft/).waitFor({ state: 'detached' })
  })

  it('search finds a group message and opens the group there', { timeout: 60_000 }, async () => {
    await openChat(bob.page, '^Alice')
    const search = bob.page.getByRole('searchbox', { name: 'Search chats and messages' })
    await search.fill('thursd')
    const hit = bob.page
      .getByRole('list', { name: 'Message results' })
      .getByRole('button', { name: /Rehearsal moved to Thursday/ })
    await hit.waitFor()
    await hit.getByText('Choir').waitFor()
    // In a group, the result says who wrote it, as the chat list does.
    await hit.getByText('Carol:').waitFor()
    await screenshots(bob.page, 'groups-daily-search')
    await hit.click()
    const found = bubble(bob.page, 'Rehearsal moved to Thursday')
    await expect.poll(() => found.locator('.bubble.highlighted').count()).toBe(1)
    await bob.page.getByRole('button', { name: 'Group info of Choir' }).waitFor()
    await search.fill('')
  })

  it('a message Bob writes offline waits, then reaches both others exactly once', {
    timeout: 60_000,
  }, async () => {
    bob.proxy.goOffline()
    await bob.page
      .getByRole('status')
      .getByText(/Offline/)
      .waitFor()
    await send(bob.page, 'Running late, start without me')
    const pending = bubble(bob.page, 'Running late, start without me')
    await pending.getByRole('img', { name: 'Sending' }).waitFor()
    await screenshots(bob.page, 'groups-daily-offline')
    await alice.page.waitForTimeout(1000)
    expect(await bubble(alice.page, 'Running late, start without me').count()).toBe(0)

    bob.proxy.goOnline()
    for (const p of [alice, carol]) await bubble(p.page, 'Running late, start without me').waitFor()
    await pending.getByRole('img', { name: /Sent|Delivered|Read/ }).waitFor()
    await alice.page.waitForTimeout(500)
    for (const p of [alice, carol, bob]) {
      expect(await bubble(p.page, 'Running late, start without me').count(), p.name).toBe(1)
    }
    // And once on the relay.
    const conversations = await alice.host.core.call('conversations.list', {})
    const group = conversations.ok ? conversations.value.find((c) => c.title === 'Choir') : undefined
    const login = await http<{ token: string }>(world.relay.url, 'POST', '/login', {
      body: { username: alice.username, password: 'correct horse battery' },
    })
    const onRelay = await relayGroupTexts(world.relay.url, login.body.token, Number(group!.key.slice(6)))
    expect(onRelay.filter((t) => t === 'Running late, start without me')).toHaveLength(1)
  })
})
