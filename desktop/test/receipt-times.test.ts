import { dmKey } from '@parley/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { conversation, startContacts, waitFor } from './helpers/core'
import { startProxy } from './helpers/proxy'
import { startRelay } from './helpers/relay'

// When a message was received and read, through the desktop core: asked of the relay online, and
// from what the feed brought offline.

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup.length = 0
})

describe('receipt times in the core', () => {
  it('the sender sees when it was received and read, also offline; the reader sees when they read it', async () => {
    const relay = await startRelay()
    const proxy = await startProxy(Number(new URL(relay.url).port))
    cleanup.push(
      () => relay.close(),
      () => proxy.close(),
    )
    const contacts = await startContacts(proxy.url)
    cleanup.push(contacts.dispose)
    const { cores, a, b } = contacts
    const before = Date.now()
    const sent = await cores.alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'when?' })
    await waitFor(async () => (await conversation(cores.bob, a.user.id)).length === 1)
    // Not read yet: delivered (Bob's core says so on arrival), with its time.
    await waitFor(async () => (await conversation(cores.alice, b.user.id))[0]?.state === 'delivered')
    const delivered = await cores.alice.ok('messages.receipts', { localId: sent.localId })
    expect(delivered).toMatchObject({ read: [], offline: false })
    expect(delivered.delivered).toEqual([
      { user: expect.objectContaining({ id: b.user.id }), deliveredAt: expect.any(Number), readAt: null },
    ])
    const deliveredAt = delivered.delivered[0]!.deliveredAt!
    expect(deliveredAt).toBeGreaterThanOrEqual(before)

    await cores.bob.ok('messages.markRead', { conversation: dmKey(a.user.id) })
    await waitFor(async () => (await conversation(cores.alice, b.user.id))[0]?.state === 'read')
    const read = await cores.alice.ok('messages.receipts', { localId: sent.localId })
    expect(read.delivered).toEqual([])
    expect(read.read).toEqual([
      { user: expect.objectContaining({ id: b.user.id }), deliveredAt, readAt: expect.any(Number) },
    ])
    const readAt = read.read[0]!.readAt!
    expect(readAt).toBeGreaterThanOrEqual(deliveredAt)

    // Bob's own view of the message he received: when it reached him and when he read it.
    const bobsCopy = (await conversation(cores.bob, a.user.id))[0]!
    await waitFor(async () => {
      const mine = await cores.bob.ok('messages.receipts', { localId: bobsCopy.localId })
      return mine.read[0]?.readAt === readAt
    })
    expect(await cores.bob.ok('messages.receipts', { localId: bobsCopy.localId })).toEqual({
      read: [{ user: expect.objectContaining({ id: b.user.id }), deliveredAt, readAt }],
      delivered: [],
      offline: false,
    })

    // Offline, Alice still knows: her feed brought both times.
    proxy.goOffline()
    await waitFor(async () => (await cores.alice.ok('connection.get', {})).state !== 'online')
    expect(await cores.alice.ok('messages.receipts', { localId: sent.localId })).toEqual({
      read: [{ user: expect.objectContaining({ id: b.user.id }), deliveredAt, readAt }],
      delivered: [],
      offline: true,
    })
  })
})
