import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { MessageView, SessionView } from '@parley/shared'
import { dmKey } from '@parley/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { befriend, conversation, signUp, startContacts, startCore, waitFor, waitOnline } from './helpers/core'
import { startProxy, type TestProxy } from './helpers/proxy'
import { http, startRelay, type TestRelay } from './helpers/relay'
import { relayConversation, secondDevice } from './helpers/relay-truth'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup.length = 0
})

async function relayWithProxy(dataDir?: string): Promise<{ relay: TestRelay; proxy: TestProxy }> {
  const relay = await startRelay(dataDir ? { dataDir } : {})
  const proxy = await startProxy(Number(new URL(relay.url).port))
  cleanup.push(
    () => relay.close(),
    () => proxy.close(),
  )
  return { relay, proxy }
}

/** Two signed-in cores that are mutual contacts, stopped after the test. */
async function pair(relayUrl: string) {
  const contacts = await startContacts(relayUrl)
  cleanup.push(contacts.dispose)
  return contacts
}

/** What must agree between a core and the relay for the conversation to count as caught up. */
function essentials(
  messages: readonly {
    id: number | null
    text: string | null
    editedAt: number | null
    deletedAt: number | null
    reactions: unknown
  }[],
) {
  return messages.map((m) => ({
    id: m.id,
    text: m.text,
    editedAt: m.editedAt,
    deletedAt: m.deletedAt,
    reactions: m.reactions,
  }))
}

async function textsOnRelay(relayUrl: string, session: SessionView, peerId: number) {
  const token = await secondDevice(relayUrl, session)
  return (await relayConversation(relayUrl, token, peerId)).map((m) => m.text)
}

describe('a core that was away', () => {
  it('catches up exactly: nothing lost, nothing twice, edits and deletes included', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const { cores, a, b } = await pair(relay.url)
    const first = await cores.alice.ok('messages.send', {
      conversation: dmKey(b.user.id),
      text: 'before the break',
    })
    await waitFor(async () => (await conversation(cores.bob, a.user.id)).length === 1)
    await cores.alice.stop()

    // Meanwhile: Bob writes, edits, deletes and reacts; Alice's phone (another session) writes too.
    for (let i = 1; i <= 30; i++)
      await cores.bob.ok('messages.send', { conversation: dmKey(a.user.id), text: `while away ${i}` })
    await waitFor(async () => (await conversation(cores.bob, a.user.id)).every((m) => m.id !== null))
    const bobs = await conversation(cores.bob, a.user.id)
    await cores.bob.ok('messages.edit', { localId: bobs[5]!.localId, text: 'edited while away' })
    await cores.bob.ok('messages.delete', { localId: bobs[7]!.localId })
    await cores.bob.ok('messages.react', { localId: bobs[0]!.localId, emoji: '🎉' })
    const phone = await secondDevice(relay.url, a)
    await http(relay.url, 'POST', '/messages', {
      token: phone,
      body: { clientId: crypto.randomUUID(), recipientId: b.user.id, text: 'from my phone' },
    })
    await waitFor(async () => {
      const mine = await conversation(cores.bob, a.user.id)
      return mine.length === 32 && mine.every((m) => !m.changePending && m.state !== 'pending')
    })

    cores.alice = await cores.alice.restart()
    await waitOnline(cores.alice)
    const expected = await relayConversation(relay.url, phone, b.user.id)
    const held = await conversation(cores.alice, b.user.id)
    expect(expected).toHaveLength(32)
    expect(essentials(held)).toEqual(essentials(expected))
    expect(new Set(held.map((m) => m.id)).size).toBe(held.length)
    expect(held[0]).toMatchObject({
      localId: first.localId,
      reactions: [{ emoji: '🎉', userIds: [b.user.id] }],
    })
    expect(held.find((m) => m.text === 'edited while away')?.editedAt).not.toBeNull()
    expect(held.filter((m) => m.deletedAt !== null)).toHaveLength(1)
    expect(held.at(-1)).toMatchObject({ text: 'from my phone', mine: true })
    expect((await cores.alice.ok('unread.get', {})).total).toBe(29)
    // Search knows the new text, not the deleted one.
    expect((await cores.alice.ok('search.query', { q: 'edited while' })).map((h) => h.message.text)).toEqual([
      'edited while away',
    ])
    expect(await cores.alice.ok('search.query', { q: 'while away 7' })).toEqual([])
  })
})

describe('the outbox', () => {
  it('messages written offline survive a restart and go out in order, once each', async () => {
    const { relay, proxy } = await relayWithProxy()
    const { cores, a, b } = await pair(proxy.url)
    proxy.goOffline()
    await waitFor(async () => (await cores.alice.ok('connection.get', {})).state === 'connecting')

    for (const text of ['one', 'two', 'three'])
      await cores.alice.ok('messages.send', { conversation: dmKey(b.user.id), text })
    const two = (await conversation(cores.alice, b.user.id))[1]!
    await cores.alice.ok('messages.edit', { localId: two.localId, text: 'two, corrected' })

    cores.alice = await cores.alice.restart()
    const reopened = await conversation(cores.alice, b.user.id)
    expect(reopened.map((m) => [m.text, m.state])).toEqual([
      ['one', 'pending'],
      ['two, corrected', 'pending'],
      ['three', 'pending'],
    ])

    proxy.goOnline()
    await waitFor(async () => (await conversation(cores.bob, a.user.id)).length === 3)
    expect((await conversation(cores.bob, a.user.id)).map((m) => m.text)).toEqual([
      'one',
      'two, corrected',
      'three',
    ])
    await waitFor(async () =>
      (await conversation(cores.alice, b.user.id)).every((m) => m.state === 'delivered'),
    )
    expect(await textsOnRelay(relay.url, a, b.user.id)).toEqual(['one', 'two, corrected', 'three'])
    expect(reopened.map((m) => m.localId)).toEqual(
      (await conversation(cores.alice, b.user.id)).map((m) => m.localId),
    )
  })

  it('edits, deletes, reactions and read receipts made offline are queued and delivered', async () => {
    const { proxy } = await relayWithProxy()
    const { cores, a, b } = await pair(proxy.url)
    await cores.alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'keep me' })
    await cores.alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'delete me' })
    await cores.bob.ok('messages.send', { conversation: dmKey(a.user.id), text: 'react to me' })
    await waitFor(
      async () => (await conversation(cores.alice, b.user.id)).filter((m) => m.id !== null).length === 3,
    )
    await waitFor(async () => (await conversation(cores.bob, a.user.id)).length === 3)

    proxy.goOffline()
    await waitFor(async () => (await cores.alice.ok('connection.get', {})).state === 'connecting')
    const before = await conversation(cores.alice, b.user.id)
    const [keep, remove, theirs] = ['keep me', 'delete me', 'react to me'].map((t) =>
      before.find((m) => m.text === t),
    )
    expect(
      await cores.alice.ok('messages.edit', { localId: keep!.localId, text: 'kept and edited' }),
    ).toMatchObject({
      text: 'kept and edited',
      changePending: true,
    })
    expect(await cores.alice.ok('messages.delete', { localId: remove!.localId })).toMatchObject({
      text: null,
    })
    await cores.alice.ok('messages.react', { localId: theirs!.localId, emoji: '👍' })
    expect((await cores.alice.ok('messages.markRead', { conversation: dmKey(b.user.id) })).total).toBe(0)

    proxy.goOnline()
    await waitFor(async () => {
      const seen = await conversation(cores.bob, a.user.id)
      const byId = (id: number | null | undefined) => seen.find((m) => m.id === id)
      return (
        byId(keep?.id)?.text === 'kept and edited' &&
        byId(remove?.id)?.deletedAt !== null &&
        byId(theirs?.id)?.reactions.length === 1 &&
        byId(theirs?.id)?.state === 'read'
      )
    })
    await waitFor(async () => (await conversation(cores.alice, b.user.id)).every((m) => !m.changePending))
    const settled = await conversation(cores.alice, b.user.id)
    const byLocal = (m: MessageView | undefined) => settled.find((s) => s.localId === m?.localId)
    expect(byLocal(keep)?.text).toBe('kept and edited')
    expect(byLocal(remove)?.text).toBeNull()
    expect(byLocal(theirs)?.reactions).toEqual([{ emoji: '👍', userIds: [a.user.id] }])
  })

  it('a resend after a lost ack does not duplicate the message', async () => {
    const { relay, proxy } = await relayWithProxy()
    const { cores, a, b } = await pair(proxy.url)
    const bobDevice = await secondDevice(relay.url, b)
    proxy.swallowReplies(true)
    const sent = await cores.alice.ok('messages.send', {
      conversation: dmKey(b.user.id),
      text: 'ack goes missing',
    })
    // The relay has it (the ack was swallowed), and Alice's core does not know yet.
    await waitFor(async () => (await relayConversation(relay.url, bobDevice, a.user.id)).length === 1)
    expect((await conversation(cores.alice, b.user.id))[0]?.state).toBe('pending')
    await new Promise((resolve) => setTimeout(resolve, 2500)) // past the ack timeout: a resend happens
    proxy.swallowReplies(false)
    proxy.cutAll()
    await waitFor(async () => (await conversation(cores.alice, b.user.id))[0]?.id !== null)
    const onRelay = await relayConversation(relay.url, bobDevice, a.user.id)
    expect(onRelay.map((m) => m.clientId)).toEqual([sent.clientId])
    expect(await conversation(cores.alice, b.user.id)).toMatchObject([
      { localId: sent.localId, id: onRelay[0]!.id },
    ])
  })

  it('a message sent while the relay restarts is delivered once when it is back', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-relay-restart-'))
    cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }))
    const first = await startRelay({ dataDir })
    const proxy = await startProxy(Number(new URL(first.url).port))
    cleanup.push(() => proxy.close())
    const { cores, a, b } = await pair(proxy.url)
    await first.close()
    await cores.alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'across the restart' })
    await new Promise((resolve) => setTimeout(resolve, 300))

    const second = await startRelay({ dataDir })
    cleanup.push(() => second.close())
    proxy.setTarget(Number(new URL(second.url).port))
    await waitFor(async () => (await conversation(cores.bob, a.user.id)).length === 1, 15_000)
    await waitFor(async () => (await conversation(cores.alice, b.user.id))[0]?.state === 'delivered', 15_000)
    expect(await textsOnRelay(second.url, a, b.user.id)).toEqual(['across the restart'])
  })

  it('a send the relay refuses fails with its reason, and can be retried or discarded', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const alice = await startCore()
    const carol = await startCore()
    cleanup.push(
      () => alice.dispose(),
      () => carol.dispose(),
    )
    const a = await signUp(alice, relay.url)
    const c = await signUp(carol, relay.url)
    await waitOnline(alice)
    const sent = await alice.ok('messages.send', {
      conversation: dmKey(c.user.id),
      text: 'not a contact yet',
    })
    const failed = await waitFor(async () => {
      const [m] = await conversation(alice, c.user.id)
      return m?.state === 'failed' ? m : undefined
    })
    expect(failed.failure?.code).toBe('contact_required')
    // Later messages are not held up behind it.
    await befriend(alice, a, carol, c)
    await alice.ok('messages.retry', { localId: sent.localId })
    await waitFor(async () => (await conversation(carol, a.user.id)).length === 1)
    expect((await conversation(alice, c.user.id))[0]?.failure).toBeNull()

    await alice.ok('contacts.block', { userId: c.user.id })
    const doomed = await alice.ok('messages.send', { conversation: dmKey(c.user.id), text: 'blocked' })
    await waitFor(
      async () =>
        (await conversation(alice, c.user.id)).find((m) => m.localId === doomed.localId)?.state === 'failed',
    )
    expect(await alice.ok('messages.discard', { localId: doomed.localId })).toBeNull()
    expect((await conversation(alice, c.user.id)).map((m: MessageView) => m.text)).toEqual([
      'not a contact yet',
    ])
  })
})

describe('the time of a message', () => {
  it('is the time the relay accepted it, on both sides, also when it was written offline', async () => {
    const { relay, proxy } = await relayWithProxy()
    // Alice's clock is her own: an hour behind while she writes, five minutes ahead when it goes.
    let aliceOffset = 0
    const { cores, a, b } = await pair(proxy.url)
    await cores.alice.stop()
    cores.alice = await startCore(cores.alice.dataDir, { clock: () => Date.now() + aliceOffset })
    await waitOnline(cores.alice)
    proxy.goOffline()
    await waitFor(async () => (await cores.alice.ok('connection.get', {})).state === 'connecting')

    aliceOffset = -3_600_000
    const written = await cores.alice.ok('messages.send', {
      conversation: dmKey(b.user.id),
      text: 'written on the train',
    })
    expect(written.state).toBe('pending')
    const writtenAt = written.createdAt
    aliceOffset = 300_000
    await new Promise((resolve) => setTimeout(resolve, 200))
    const goneOnlineAt = Date.now()
    proxy.goOnline()

    const received = await waitFor(async () => (await conversation(cores.bob, a.user.id))[0])
    const [onRelay] = await relayConversation(relay.url, await secondDevice(relay.url, b), a.user.id)
    expect(onRelay?.createdAt).toBeGreaterThanOrEqual(goneOnlineAt)
    expect(received.createdAt).toBe(onRelay?.createdAt)
    const sent = await waitFor(async () => {
      const [m] = await conversation(cores.alice, b.user.id)
      return m?.state === 'delivered' ? m : undefined
    })
    expect(sent.createdAt).toBe(onRelay?.createdAt)
    expect(sent.createdAt).not.toBe(writtenAt)
    expect(
      cores.alice
        .events('messages.changed')
        .flatMap((e) => e.messages)
        .at(-1)?.createdAt,
    ).toBe(onRelay?.createdAt)
  })
})
