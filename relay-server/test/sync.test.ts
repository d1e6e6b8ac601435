import { randomUUID } from 'node:crypto'
import type { FeedEvent, Message, SyncResponse } from '@parley/shared'
import { describe, expect } from 'vitest'
import {
  befriend,
  connect,
  emit,
  http,
  registerContacts,
  registerUser,
  sendMessage,
  type TestUser,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import { relayTests, type TestRelay } from './helpers/relay'

const withRelay = relayTests()

describe.each(dialects)('the sync feed (%s)', (dialect) => {
  const it = withRelay[dialect]

  const pair = (relay: TestRelay) => registerContacts(relay.url)

  async function syncAll(
    user: TestUser,
    after: number,
    limit: number,
  ): Promise<{ events: FeedEvent[]; cursor: number; pages: number }> {
    const socket = await connect(user.base, user.token)
    const events: FeedEvent[] = []
    let cursor = after
    let pages = 0
    try {
      for (;;) {
        const page = await emit(socket, 'sync', { after: cursor, limit })
        if (!page.ok) throw new Error(page.error.message)
        pages += 1
        events.push(...page.events)
        cursor = page.cursor
        if (!page.hasMore) break
      }
    } finally {
      socket.close()
    }
    return { events, cursor, pages }
  }

  it('a user who was offline catches up exactly: nothing lost, nothing twice, edits and deletes applied', async ({
    relay,
  }) => {
    const [ann, ben] = await pair(relay)
    const before = await syncAll(ben, 0, 100)
    const cursor = before.cursor

    // While Ben is offline: five messages, one edited, one deleted, one reacted to, and one of his own.
    const sent: Message[] = []
    for (let i = 0; i < 5; i++) sent.push((await sendMessage(ann, ben, `while away ${i}`)).message)
    await http(relay.url, 'PATCH', `/messages/${sent[1]!.id}`, {
      token: ann.token,
      body: { text: 'edited while away' },
    })
    await http(relay.url, 'DELETE', `/messages/${sent[2]!.id}`, { token: ann.token })
    const annSocket = await connect(relay.url, ann.token)
    await emit(annSocket, 'reaction', { messageId: sent[3]!.id, emoji: '🎉' })
    annSocket.close()
    const fromBenElsewhere = await sendMessage(ben, ann, 'from my phone')

    const { events, cursor: end, pages } = await syncAll(ben, cursor, 2)
    // Part way through, the head already says how far the catch-up will go.
    const firstPage = await http<SyncResponse>(relay.url, 'GET', `/sync?after=${cursor}&limit=2`, {
      token: ben.token,
    })
    expect(firstPage.body).toMatchObject({ cursor: cursor + 2, hasMore: true, head: end })
    expect(pages).toBeGreaterThan(3)
    const seqs = events.map((e) => e.seq)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => cursor + 1 + i))
    expect(end).toBe(seqs.at(-1))

    // Apply as a client would: upsert by id, in order.
    const state = new Map<number, Message>()
    for (const event of events) {
      if (
        event.type === 'message' ||
        event.type === 'message_updated' ||
        event.type === 'message_deleted' ||
        event.type === 'reaction'
      ) {
        state.set(event.data.id, event.data)
      }
    }
    expect([...state.keys()].sort((a, b) => a - b)).toEqual([
      ...sent.map((m) => m.id),
      fromBenElsewhere.message.id,
    ])
    expect(state.get(sent[1]!.id)?.text).toBe('edited while away')
    expect(state.get(sent[2]!.id)).toMatchObject({ text: null, deletedAt: expect.any(Number) })
    expect(state.get(sent[3]!.id)?.reactions).toEqual([{ emoji: '🎉', userIds: [ann.user.id] }])
    // The deleted text is never replayed, not even in the event that first announced the message.
    expect(JSON.stringify(events)).not.toContain('while away 2')

    const nothingNew = await http<SyncResponse>(relay.url, 'GET', `/sync?after=${end}`, { token: ben.token })
    expect(nothingNew.body).toEqual({ events: [], cursor: end, hasMore: false, head: end })
  })

  it('each user’s seqs start at 1 and stay contiguous when many writes race', async ({ relay }) => {
    const hub = await registerUser(relay.url)
    const spokes = await Promise.all(Array.from({ length: 6 }, () => registerUser(relay.url)))
    for (const spoke of spokes) await befriend(spoke, hub)
    const committer = relay.app.services.committer
    const before = committer.stats
    const sockets = await Promise.all(spokes.map((s) => connect(relay.url, s.token)))
    const perSpoke = 40
    const acks = await Promise.all(
      sockets.flatMap((socket) =>
        Array.from({ length: perSpoke }, (_, i) =>
          emit(socket, 'message', { clientId: randomUUID(), recipientId: hub.user.id, text: `burst ${i}` }),
        ),
      ),
    )
    for (const s of sockets) s.close()
    expect(acks.every((a) => a.ok)).toBe(true)
    const after = committer.stats
    const operations = after.operations - before.operations
    const transactions = after.transactions - before.transactions
    expect(operations).toBe(spokes.length * perSpoke)
    // Group commit: the burst shares transactions instead of taking one each.
    expect(transactions).toBeLessThan(operations / 4)

    const { events } = await syncAll(hub, 0, 1000)
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1))
    const messages = events.filter((e) => e.type === 'message')
    expect(messages).toHaveLength(spokes.length * perSpoke)
    expect(new Set(messages.map((e) => e.data.id)).size).toBe(messages.length)
    for (const spoke of spokes) {
      const { events: own } = await syncAll(spoke, 0, 1000)
      expect(own.map((e) => e.seq)).toEqual(Array.from({ length: own.length }, (_, i) => i + 1))
    }
  })

  it('refuses a cursor or limit out of range', async ({ relay }) => {
    const ann = await registerUser(relay.url)
    for (const query of ['after=-1', 'after=abc', 'after=0&limit=0', 'after=0&limit=1001', '']) {
      const result = await http(relay.url, 'GET', `/sync?${query}`, { token: ann.token })
      expect(result.status, query).toBe(400)
      expect(result.body).toMatchObject({ error: { code: 'validation_failed' } })
    }
  })
})
