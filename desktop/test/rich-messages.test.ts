import { type ConversationKey, dmKey, type MessageView, type SessionView } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { befriend, waitFor, waitOnline } from './helpers/core'
import { type Device, startDevice } from './helpers/device'
import { startRelay, type TestRelay } from './helpers/relay'

// Replies, forwards and delete for me through the desktop core, against a real relay: each device
// is a core of its own behind a proxy of its own (so any of them can go offline).

let relay: TestRelay
const cleanup: (() => Promise<void>)[] = []

beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined)
  await relay.close()
})

const device = (login?: SessionView) => startDevice(relay, cleanup, login)

async function pair() {
  const [alice, bob] = [await device(), await device()]
  await befriend(alice.core, alice.session, bob.core, bob.session)
  return { alice, bob }
}

async function timeline(d: Device, key: ConversationKey): Promise<MessageView[]> {
  return (await d.core.ok('messages.page', { conversation: key, limit: 200 })).messages
    .filter((m) => m.kind !== 'event')
    .reverse()
}

/** Waits until `d` has a sent message with this text in `key`, and returns it. */
async function arrived(d: Device, key: ConversationKey, text: string | null, index = 0) {
  return waitFor(async () => {
    const found = (await timeline(d, key)).filter((m) => m.text === text && m.id !== null)
    return found[index]
  })
}

describe('replies, forwards and delete for me in the core', () => {
  it('a reply carries its original, shown as a quote; a deleted original shows as deleted, never its text', async () => {
    const { alice, bob } = await pair()
    const withBob = dmKey(bob.id)
    const withAlice = dmKey(alice.id)
    await alice.core.ok('messages.send', { conversation: withBob, text: '\n  Dinner at eight?\nBring wine' })
    const original = await arrived(bob, withAlice, '\n  Dinner at eight?\nBring wine')
    expect(original).toMatchObject({ replyTo: null, forwarded: false, file: null, voice: null })

    // Written offline: the reply waits in the outbox with its original.
    bob.proxy.goOffline()
    const reply = await bob.core.ok('messages.send', {
      conversation: withAlice,
      text: 'Yes!',
      replyToId: original.id as number,
    })
    expect(reply.state).toBe('pending')
    expect(reply.replyTo).toMatchObject({
      id: original.id,
      state: 'shown',
      localId: original.localId,
      text: 'Dinner at eight?',
      sender: { userId: alice.id },
    })
    bob.proxy.goOnline()
    const got = await arrived(alice, withBob, 'Yes!')
    expect(got.replyTo).toMatchObject({ id: original.id, state: 'shown', text: 'Dinner at eight?' })

    // Deleted for everyone: the quote says so and keeps nothing of what it said.
    const own = (await timeline(alice, withBob)).find((m) => m.id === original.id) as MessageView
    await alice.core.ok('messages.delete', { localId: own.localId })
    await waitFor(async () => {
      const quote = (await timeline(bob, withAlice)).find((m) => m.text === 'Yes!')?.replyTo
      expect(quote).toMatchObject({ state: 'deleted', text: null, imageId: null, fileName: null })
      return true
    })

    // A reply to a message this device does not have is refused before anything is written.
    const refused = await bob.core.call('messages.send', {
      conversation: withAlice,
      text: 'x',
      replyToId: 999999,
    })
    expect(refused.ok || refused.error.code).toBe('reply_not_found')
  })

  it('forwards a message to several chats, marked forwarded, offline too; a group reply quotes a group message', async () => {
    const { alice, bob } = await pair()
    const carol = await device()
    await befriend(alice.core, alice.session, carol.core, carol.session)
    const group = await alice.core.ok('groups.create', { title: 'Trip', memberIds: [bob.id, carol.id] })
    await bob.core.ok('messages.send', { conversation: dmKey(alice.id), text: 'The tickets are booked' })
    const original = await arrived(alice, dmKey(bob.id), 'The tickets are booked')

    alice.proxy.goOffline()
    const copies = await alice.core.ok('messages.forward', {
      localId: original.localId,
      to: [group.key, dmKey(carol.id)],
    })
    expect(copies.map((m) => [m.conversation, m.text, m.forwarded, m.state])).toEqual([
      [group.key, 'The tickets are booked', true, 'pending'],
      [dmKey(carol.id), 'The tickets are booked', true, 'pending'],
    ])
    alice.proxy.goOnline()
    const inGroup = await arrived(carol, group.key, 'The tickets are booked')
    expect(inGroup).toMatchObject({ forwarded: true, sender: { userId: alice.id } })
    expect(await arrived(carol, dmKey(alice.id), 'The tickets are booked')).toMatchObject({ forwarded: true })

    // A reply in the group.
    await carol.core.ok('messages.send', {
      conversation: group.key,
      text: 'Great',
      replyToId: inGroup.id as number,
    })
    const reply = await arrived(bob, group.key, 'Great')
    expect(reply.replyTo).toMatchObject({
      state: 'shown',
      text: 'The tickets are booked',
      sender: { userId: alice.id },
    })

    // A group is not a place the original's conversation can answer into.
    const across = await carol.core.call('messages.send', {
      conversation: dmKey(alice.id),
      text: 'no',
      replyToId: inGroup.id as number,
    })
    expect(across.ok || across.error.code).toBe('reply_not_found')
  })

  it('delete for me hides a message on every device of mine (views, search, unread), offline too, and not for others', async () => {
    const { alice, bob } = await pair()
    const phone = await device(alice.session)
    const withBob = dmKey(bob.id)
    await bob.core.ok('messages.send', { conversation: dmKey(alice.id), text: 'secret plans zebra' })
    await bob.core.ok('messages.send', { conversation: dmKey(alice.id), text: 'second' })
    const target = await arrived(alice, withBob, 'secret plans zebra')
    await arrived(phone, withBob, 'secret plans zebra')
    const unread = async (d: Device) =>
      (await d.core.ok('conversations.list', {})).find((c) => c.key === withBob)?.unread
    await waitFor(async () => (await unread(phone)) === 2)

    alice.proxy.goOffline()
    expect(await alice.core.ok('messages.hide', { localId: target.localId })).toBeNull()
    expect((await timeline(alice, withBob)).map((m) => m.text)).toEqual(['second'])
    expect(await alice.core.ok('search.query', { q: 'zebra' })).toEqual([])
    const removed = alice.core.events('messages.changed').flatMap((e) => e.removedLocalIds)
    expect(removed).toContain(target.localId)
    alice.proxy.goOnline()

    // The other device hears message_hidden from its feed.
    await waitFor(async () => {
      expect((await timeline(phone, withBob)).map((m) => m.text)).toEqual(['second'])
      return true
    })
    expect(await unread(phone)).toBe(1)
    expect(await phone.core.ok('search.query', { q: 'zebra' })).toEqual([])
    // Bob keeps it.
    expect((await timeline(bob, dmKey(alice.id))).map((m) => m.text)).toEqual([
      'secret plans zebra',
      'second',
    ])
    // It stays hidden after a restart (the feed does not bring it back).
    const again = await phone.core.restart()
    cleanup.push(() => again.dispose())
    await waitOnline(again)
    const page = await again.ok('messages.page', { conversation: withBob, limit: 50 })
    expect(page.messages.map((m) => m.text)).toEqual(['second'])
  })
})
