import { randomUUID } from 'node:crypto'
import type { ApiError, FeedEvent, Message, SyncResponse, SyncSnapshot } from '@parley/shared'
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
import { createGroup, sendToGroup } from './helpers/groups'
import { relayTests } from './helpers/relay'

const DAY = 86_400_000
let now = Date.UTC(2026, 0, 1)
const withRelay = relayTests()
const withRetention = relayTests({
  clock: () => now,
  env: { FEED_RETENTION_DAYS: '90', SESSION_TTL_DAYS: '365', SESSION_MAX_DAYS: '365' },
})

async function snapshotOf(user: TestUser, limit?: number): Promise<SyncSnapshot> {
  const result = await http<SyncSnapshot>(
    user.base,
    'GET',
    `/sync/snapshot${limit === undefined ? '' : `?limit=${limit}`}`,
    { token: user.token },
  )
  if (result.status !== 200)
    throw new Error(`snapshot failed: ${result.status} ${JSON.stringify(result.body)}`)
  return result.body
}

async function feedAfter(user: TestUser, after: number): Promise<{ events: FeedEvent[]; cursor: number }> {
  const events: FeedEvent[] = []
  let cursor = after
  for (;;) {
    const page = await http<SyncResponse>(user.base, 'GET', `/sync?after=${cursor}&limit=1000`, {
      token: user.token,
    })
    if (page.status !== 200) throw new Error(`sync failed: ${page.status} ${JSON.stringify(page.body)}`)
    events.push(...page.body.events)
    cursor = page.body.cursor
    if (!page.body.hasMore) return { events, cursor }
  }
}

const texts = (messages: Message[]) => messages.map((m) => m.text)

describe.each(dialects)('GET /sync/snapshot (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('gives a new device its contacts, each conversation’s newest page with both markers, and the cursor', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const cat = await registerUser(relay.url)
    await befriend(ann, cat)
    for (let i = 1; i <= 5; i++) await sendMessage(i % 2 ? ann : ben, i % 2 ? ben : ann, `ab ${i}`)
    const last = await sendMessage(cat, ann, 'from cat')
    const socket = await connect(relay.url, ben.token)
    const read = await emit(socket, 'read', { with: ann.user.id, upTo: last.message.id - 1 })
    socket.close()
    expect(read.ok).toBe(true)

    const snapshot = await snapshotOf(ann, 3)
    const head = await http<SyncResponse>(relay.url, 'GET', '/sync?after=0&limit=1', { token: ann.token })
    expect(snapshot.cursor).toBe(head.body.head)
    expect(snapshot.floor).toBe(0)
    expect(snapshot.user).toMatchObject({ id: ann.user.id, email: ann.user.email })
    expect(snapshot.contacts.map((c) => [c.user.id, c.status]).sort()).toEqual(
      [
        [ben.user.id, 'accepted'],
        [cat.user.id, 'accepted'],
      ].sort(),
    )
    // Most recently active first; each page newest first, as GET /messages gives it.
    expect(snapshot.conversations.map((c) => c.peerId)).toEqual([cat.user.id, ben.user.id])
    const withBen = snapshot.conversations[1]!
    expect(texts(withBen.messages)).toEqual(['ab 5', 'ab 4', 'ab 3'])
    expect(withBen.hasMore).toBe(true)
    expect(withBen.peer).toEqual({ deliveredUpTo: last.message.id - 1, readUpTo: last.message.id - 1 })
    expect(withBen.own).toEqual({ deliveredUpTo: 0, readUpTo: 0 })
    expect(snapshot.conversations[0]).toMatchObject({ hasMore: false, messages: [{ text: 'from cat' }] })
    // Everyone named is a contact here, so no extra profiles.
    expect(snapshot.users).toEqual([])
  })

  it('shows only your own conversations and groups, without what you hid, what was withheld, or groups you left', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const [cat, dan] = await registerContacts(relay.url)
    await befriend(ann, cat)
    await sendMessage(cat, dan, 'between cat and dan')
    const hidden = await sendMessage(ben, ann, 'hide me')
    await sendMessage(ben, ann, 'keep me')
    expect(
      (await http(relay.url, 'POST', `/messages/${hidden.message.id}/hide`, { token: ann.token })).status,
    ).toBe(200)
    const kept = await createGroup(ann, [ben, cat], 'Kept')
    const left = await createGroup(ann, [cat], 'Left')
    // Cat blocks Ann: what Ann sends her afterwards is withheld from Cat, but Ann still sees it.
    await http(relay.url, 'PATCH', `/contacts/${ann.user.id}`, {
      token: cat.token,
      body: { status: 'blocked' },
    })
    await sendMessage(ann, cat, 'withheld')

    await sendToGroup(ben, kept.id, 'in the group')
    await sendToGroup(ann, left.id, 'before cat left')
    expect(
      (await http(relay.url, 'DELETE', `/groups/${left.id}/members/${cat.user.id}`, { token: cat.token }))
        .status,
    ).toBe(200)

    const forAnn = await snapshotOf(ann)
    const annBen = forAnn.conversations.find((c) => c.peerId === ben.user.id)!
    expect(texts(annBen.messages)).toEqual(['keep me'])
    expect(texts(forAnn.conversations.find((c) => c.peerId === cat.user.id)!.messages)).toEqual(['withheld'])

    const forCat = await snapshotOf(cat)
    expect(forCat.conversations.map((c) => c.peerId)).toEqual([dan.user.id])
    expect(forCat.groups.map((g) => g.group.id)).toEqual([kept.id])
    const group = forCat.groups[0]!
    expect(texts(group.messages)).toEqual(['in the group'])
    expect(group.group.members?.map((m) => m.userId).sort()).toEqual(
      [ann.user.id, ben.user.id, cat.user.id].sort(),
    )
    expect(group.group.headSeq).toBeGreaterThan(0)
    // Ben is in the group with Cat but not her contact: his public profile comes along, once.
    expect(forCat.users.map((u) => u.id)).toEqual([ben.user.id])
    expect(forCat.users[0]).not.toHaveProperty('email')
    // Cat's own markers start at the newest message when she joined; "everyone" is the lowest.
    expect(group.everyone.readUpTo).toBeLessThanOrEqual(group.own.readUpTo)

    const unauthorized = await http<{ error: ApiError }>(relay.url, 'GET', '/sync/snapshot')
    expect(unauthorized.status).toBe(401)
    const tooBig = await http<{ error: ApiError }>(relay.url, 'GET', '/sync/snapshot?limit=101', {
      token: ann.token,
    })
    expect(tooBig.status).toBe(400)
  })

  it('with sends racing it, the snapshot and the feed after its cursor hold every message exactly once', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const cat = await registerUser(relay.url)
    await befriend(cat, ben)
    const sockets = await Promise.all([connect(relay.url, ann.token), connect(relay.url, cat.token)])
    const sent: number[] = []
    let sending = true
    const senders = sockets.map(async (socket, i) => {
      let n = 0
      while (sending) {
        const ack = await emit(socket, 'message', {
          clientId: randomUUID(),
          recipientId: ben.user.id,
          text: `racing ${i}.${n++}`,
        })
        if (!ack.ok) throw new Error(ack.error.message)
        sent.push(ack.message.id)
      }
    })
    try {
      await new Promise((resolve) => setTimeout(resolve, 50))
      const snapshots: SyncSnapshot[] = []
      for (let i = 0; i < 3; i++) snapshots.push(await snapshotOf(ben, 100))
      sending = false
      await Promise.all(senders)
      for (const snapshot of snapshots) {
        const inSnapshot = snapshot.conversations.flatMap((c) => c.messages.map((m) => m.id))
        expect(snapshot.conversations.every((c) => !c.hasMore)).toBe(true)
        const after = await feedAfter(ben, snapshot.cursor)
        const created = after.events.filter((e) => e.type === 'message').map((e) => (e.data as Message).id)
        // Nothing twice: what the feed brings after the cursor is newer than everything in the snapshot.
        expect(created.filter((id) => inSnapshot.includes(id))).toEqual([])
        // Nothing missing: together they hold every acknowledged message.
        expect([...inSnapshot, ...created].sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b))
      }
      expect(snapshots[0]!.cursor).toBeLessThan(snapshots[2]!.cursor)
    } finally {
      sending = false
      for (const socket of sockets) socket.close()
    }
  })
})

describe.each(dialects)('feed compaction (%s)', (dialect) => {
  const it = withRetention[dialect]

  it('deletes events past FEED_RETENTION_DAYS; a cursor below the floor gets cursor_expired and a snapshot continues', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    // Ben's device last synced here, then went away for longer than the retention.
    const away = (await feedAfter(ben, 0)).cursor
    await sendMessage(ann, ben, 'long ago')
    now += 100 * DAY
    await sendMessage(ann, ben, 'recently')
    await sendMessage(ben, ann, 'reply')
    const compacted = await relay.app.services.feedCompaction.run()
    expect(compacted).toBeGreaterThan(0)

    for (const after of [0, away]) {
      const expired = await http<{ error: ApiError }>(relay.url, 'GET', `/sync?after=${after}`, {
        token: ben.token,
      })
      expect(expired.status).toBe(410)
      expect(expired.body.error.code).toBe('cursor_expired')
      const socket = await connect(relay.url, ben.token)
      const ack = await emit(socket, 'sync', { after })
      socket.close()
      expect(ack).toMatchObject({ ok: false, error: { code: 'cursor_expired' } })
    }

    // The device that was away re-reads a snapshot: the old message is still there (messages are kept).
    const snapshot = await snapshotOf(ben)
    expect(snapshot.floor).toBeGreaterThan(away)
    expect(texts(snapshot.conversations[0]!.messages)).toEqual(['reply', 'recently', 'long ago'])
    expect(snapshot.contacts.map((c) => c.user.id)).toEqual([ann.user.id])
    await sendMessage(ann, ben, 'after the snapshot')
    const after = await feedAfter(ben, snapshot.cursor)
    expect(after.events.map((e) => (e.data as Message).text)).toEqual(['after the snapshot'])
    // Events newer than the retention stay: a cursor at the floor still continues.
    expect((await feedAfter(ben, snapshot.floor)).events.length).toBeGreaterThan(0)
    // A second pass has nothing left to do.
    expect(await relay.app.services.feedCompaction.run()).toBe(0)
  })
})
