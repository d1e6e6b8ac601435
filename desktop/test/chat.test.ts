import { randomUUID } from 'node:crypto'
import { type BridgeEvent, bridgeEvents, dmKey, type MessageView, validate } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  befriend,
  conversation,
  signUp,
  startContacts,
  startCore,
  type TestCore,
  waitFor,
  waitOnline,
} from './helpers/core'
import { startRelay, type TestRelay } from './helpers/relay'

describe('two cores chat through a real relay', () => {
  let relay: TestRelay
  const cores: TestCore[] = []
  beforeAll(async () => {
    relay = await startRelay()
  })
  afterAll(async () => {
    for (const core of cores) await core.dispose()
    await relay.close()
  })

  /** Two cores signed up, contacts of each other, and online. */
  async function twoFriends() {
    const { cores: friends, a, b } = await startContacts(relay.url)
    cores.push(friends.alice, friends.bob)
    return { alice: friends.alice, bob: friends.bob, a, b }
  }

  it('a message shows as pending at once, reaches the peer, and ends read', async () => {
    const { alice, bob, a, b } = await twoFriends()

    const sent = await alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'hello bob' })
    expect(sent).toMatchObject({ state: 'pending', id: null, mine: true, text: 'hello bob' })

    const received = await waitFor(async () =>
      (await conversation(bob, a.user.id)).find((m) => m.text === 'hello bob'),
    )
    expect(received).toMatchObject({
      mine: false,
      senderId: a.user.id,
      state: 'delivered',
      clientId: sent.clientId,
    })
    expect((await bob.ok('unread.get', {})).total).toBe(1)

    // Bob's core says "delivered" by itself; reading moves it to read on Alice's side.
    await waitFor(async () => (await conversation(alice, b.user.id))[0]?.state === 'delivered')
    const unread = await bob.ok('messages.markRead', { conversation: dmKey(a.user.id) })
    expect(unread.total).toBe(0)
    await waitFor(async () => (await conversation(alice, b.user.id))[0]?.state === 'read')
    const own = (await conversation(alice, b.user.id))[0]!
    expect(own.localId).toBe(sent.localId)
    expect(own.id).toBe(received.id)

    // The reply comes back the other way, and each side's unread total follows.
    await bob.ok('messages.send', { conversation: dmKey(a.user.id), text: 'hi alice' })
    await waitFor(async () => (await alice.ok('unread.get', {})).total === 1)
    await waitFor(() => alice.events('unread.changed').at(-1)?.total === 1)
    const conversations = await alice.ok('conversations.list', {})
    expect(conversations[0]).toMatchObject({
      key: dmKey(b.user.id),
      unread: 1,
      lastMessage: { text: 'hi alice' },
    })
  })

  it('a message handed over again with its clientId is written once, and a clientId is bound to its conversation', async () => {
    const { alice, bob, a, b } = await twoFriends()
    const clientId = randomUUID()
    const first = await alice.ok('messages.send', {
      conversation: dmKey(b.user.id),
      text: 'once only',
      clientId,
    })
    expect(first.clientId).toBe(clientId)
    // The page did not hear back and asks again: the same message, pending or sent by now.
    const again = await alice.ok('messages.send', {
      conversation: dmKey(b.user.id),
      text: 'once only',
      clientId,
    })
    expect(again.localId).toBe(first.localId)
    await waitFor(async () => (await conversation(alice, b.user.id))[0]?.id !== null)
    const afterSent = await alice.ok('messages.send', {
      conversation: dmKey(b.user.id),
      text: 'once only',
      clientId,
    })
    expect(afterSent.localId).toBe(first.localId)
    expect(afterSent.id).not.toBeNull()
    const elsewhere = await alice.call('messages.send', {
      conversation: dmKey(a.user.id + b.user.id),
      text: 'x',
      clientId,
    })
    expect(elsewhere.ok === false && elsewhere.error.code).toBe('client_id_conflict')
    const received = await waitFor(async () => {
      const messages = await conversation(bob, a.user.id)
      return messages.length > 0 ? messages : undefined
    })
    expect(received.map((m) => m.text)).toEqual(['once only'])
    expect(await conversation(alice, b.user.id)).toHaveLength(1)
  })

  it('new messages from a peer raise messages.received for the shell, and settings changes are announced', async () => {
    const alice = await startCore()
    const bob = await startCore(undefined, { shell: 'electron', version: '9.9.9' })
    cores.push(alice, bob)
    const a = await signUp(alice, relay.url)
    const b = await signUp(bob, relay.url)
    await befriend(alice, a, bob, b)
    await waitOnline(alice)
    await waitOnline(bob)

    expect(await bob.ok('app.info', {})).toMatchObject({ shell: 'electron', version: '9.9.9' })
    expect((await alice.ok('app.info', {})).shell).toBe('browser')
    await bob.ok('app.setViewing', { conversation: dmKey(a.user.id) })
    expect(bob.service.viewing).toBe(dmKey(a.user.id))

    await alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'are you up?' })
    const received = await waitFor(() => bob.events('messages.received').at(-1))
    expect(received).toMatchObject({
      conversation: dmKey(a.user.id),
      count: 1,
      message: { text: 'are you up?', mine: false },
      sender: { id: a.user.id, username: a.user.username },
    })
    // Your own messages never notify you.
    expect(alice.events('messages.received')).toHaveLength(0)

    const settings = await bob.ok('settings.set', {
      mutedConversations: [dmKey(a.user.id)],
      closeToTray: false,
    })
    expect(settings).toMatchObject({
      mutedConversations: [dmKey(a.user.id)],
      closeToTray: false,
      startAtLogin: false,
    })
    expect(bob.events('settings.changed').at(-1)).toEqual(settings)
    // The same peer twice is refused at the boundary.
    const twice = await bob.call('settings.set', { mutedConversations: [dmKey(a.user.id), dmKey(a.user.id)] })
    expect(twice.ok).toBe(false)
  })

  it('what someone writes to a person who blocked them shows as sent and never arrives, also after the block is lifted', async () => {
    const { alice, bob, a, b } = await twoFriends()
    const sinceBefore = (await bob.ok('contacts.list', {}))[0]?.acceptedAt
    expect(sinceBefore).toEqual(expect.any(Number))

    await bob.ok('contacts.block', { userId: a.user.id })
    const sent = await alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'still friends?' })
    const settled = await waitFor(async () => {
      const [m] = await conversation(alice, b.user.id)
      return m?.state === 'sent' && !m.changePending ? m : undefined
    })
    expect(settled).toMatchObject({ localId: sent.localId, failure: null, id: expect.any(Number) })
    // Alice's contact entry says nothing either.
    expect((await alice.ok('contacts.list', {}))[0]).toMatchObject({ status: 'accepted' })

    // Bob's core would have said "delivered" by now had it arrived.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await conversation(alice, b.user.id))[0]?.state).toBe('sent')
    expect(await conversation(bob, a.user.id)).toEqual([])

    await bob.ok('contacts.accept', { userId: a.user.id })
    expect((await bob.ok('contacts.list', {}))[0]).toMatchObject({
      status: 'accepted',
      acceptedAt: sinceBefore,
    })
    await alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'hello again' })
    await waitFor(async () => (await conversation(bob, a.user.id)).length > 0)
    expect((await conversation(bob, a.user.id)).map((m) => m.text)).toEqual(['hello again'])
  })

  it('one send is told once to the recipient and twice to the sender (written, then sent), and its receipts reread nothing', async () => {
    const { alice, bob, a, b } = await twoFriends()
    const since = (core: TestCore) => {
      const start = {
        changed: core.events('messages.changed').length,
        rows: core.events('conversations.changed').length,
      }
      return {
        changed: () => core.events('messages.changed').slice(start.changed),
        rows: () => core.events('conversations.changed').slice(start.rows),
      }
    }
    const aliceSaw = since(alice)
    const bobSaw = since(bob)

    const sent = await alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'counted' })
    const received = await waitFor(async () => (await conversation(bob, a.user.id))[0])
    // Bob's core says delivered by itself; reading says read.
    await waitFor(() => alice.events('receipts.changed').find((e) => e.deliveredUpTo >= received.id!))
    await bob.ok('messages.markRead', { conversation: dmKey(a.user.id) })
    await waitFor(() => alice.events('receipts.changed').find((e) => e.readUpTo >= received.id!))
    // Time for any late echo (the feed's copy of Alice's own message, the receipts' echoes).
    await new Promise((resolve) => setTimeout(resolve, 500))

    const told = (changed: { messages: MessageView[] }[]) =>
      changed.flatMap((e) => e.messages).filter((m) => m.clientId === sent.clientId)
    // The sender: written (pending), then sent with the relay's id; the ack and the feed's echo of
    // the same message are one change, and the receipts move markers, not messages.
    expect(told(aliceSaw.changed()).map((m) => [m.state, m.id])).toEqual([
      ['pending', null],
      ['sent', received.id],
    ])
    expect(told(bobSaw.changed()).map((m) => m.state)).toEqual(['delivered'])
    for (const e of [...aliceSaw.changed(), ...bobSaw.changed()]) expect(e.reload).toBe(false)
    expect(alice.events('receipts.changed').at(-1)).toEqual({
      conversation: dmKey(b.user.id),
      deliveredUpTo: received.id,
      readUpTo: received.id,
      ownReadUpTo: 0,
    })
    expect(bob.events('receipts.changed').at(-1)).toMatchObject({
      conversation: dmKey(a.user.id),
      ownReadUpTo: received.id,
    })
    // The pages still carry the state the markers give.
    expect((await conversation(alice, b.user.id))[0]).toMatchObject({ localId: sent.localId, state: 'read' })
    expect((await conversation(bob, a.user.id))[0]).toMatchObject({ state: 'read' })

    // The chat list gets its changed rows; the last tells the read ticks, as the list would read it.
    expect(aliceSaw.rows().at(-1)?.conversations).toEqual(await alice.ok('conversations.list', {}))
    expect(bobSaw.rows().at(-1)?.conversations).toEqual(await bob.ok('conversations.list', {}))
    expect(aliceSaw.rows().at(-1)?.conversations[0]?.lastMessage).toMatchObject({ state: 'read' })
    // Each told row is new: no event repeats the row before it.
    const rows = aliceSaw.rows().map((e) => JSON.stringify(e.conversations))
    expect(new Set(rows).size).toBe(rows.length)

    // A new name shows in the row too, told as a changed row.
    await bob.ok('profile.update', { firstName: 'Robert' })
    await waitFor(() =>
      aliceSaw
        .rows()
        .some((e) =>
          e.conversations.some((c) => c.key === dmKey(b.user.id) && c.peer?.firstName === 'Robert'),
        ),
    )

    // Every event told is one the bridge's schemas accept.
    for (const event of ['messages.changed', 'receipts.changed', 'conversations.changed'] as BridgeEvent[]) {
      for (const payload of [...alice.events(event), ...bob.events(event)]) {
        expect(validate(bridgeEvents[event], payload).ok).toBe(true)
      }
    }
  })

  it('a conversation is named by its key: a 1:1 row takes its title and picture from the contact; a group key is taken, and nothing is written to a group yet', async () => {
    const { alice, bob, a, b } = await twoFriends()
    await bob.ok('messages.send', { conversation: dmKey(a.user.id), text: 'keyed' })
    const row = await waitFor(async () =>
      (await alice.ok('conversations.list', {})).find((c) => c.key === dmKey(b.user.id) && c.lastMessage),
    )
    expect(row).toMatchObject({
      kind: 'dm',
      title: `${b.user.firstName} ${b.user.lastName}`,
      avatarImageId: null,
      peer: { id: b.user.id },
      lastMessage: { text: 'keyed', conversation: dmKey(b.user.id), senderId: b.user.id },
    })

    // Every conversation-keyed method takes a group's key at the boundary...
    expect(await alice.ok('messages.page', { conversation: 'group:1' })).toEqual({
      messages: [],
      nextBefore: null,
      nextAfter: null,
    })
    await alice.ok('drafts.set', { conversation: 'group:1', text: 'for the group' })
    expect(await alice.ok('drafts.get', { conversation: 'group:1' })).toMatchObject({ text: 'for the group' })
    expect(await alice.ok('typing.set', { conversation: 'group:1', typing: true })).toBeNull()
    const unread = await alice.ok('unread.get', {})
    expect(unread.total).toBe(1)
    expect(await alice.ok('messages.markRead', { conversation: 'group:1' })).toEqual(unread)
    // ...but this build has no group to write to: refused, and nothing is queued.
    for (const send of [
      alice.call('messages.send', { conversation: 'group:1', text: 'hello all' }),
      alice.call('messages.send', { conversation: dmKey(a.user.id), text: 'to myself' }),
    ]) {
      expect((await send).ok).toBe(false)
    }
    expect(await alice.call('messages.send', { conversation: 'group:1', text: 'x' })).toMatchObject({
      error: { code: 'not_found' },
    })
    expect(await alice.call('messages.send', { conversation: dmKey(a.user.id), text: 'x' })).toMatchObject({
      error: { code: 'cannot_contact_self' },
    })
    expect((await alice.ok('conversations.list', {})).map((c) => c.key)).toEqual([dmKey(b.user.id)])
  })
})
