import type { StatusChangeEvent } from '@parley/shared'
import { describe, expect } from 'vitest'
import { befriend, connect, contactsOf, emit, nextEvent, registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()

describe.each(dialects)('presence (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('online while any session is connected, away on request, offline with last seen when the last one leaves', async ({
    relay,
  }) => {
    const ann = await registerUser(relay.url)
    const ben = await registerUser(relay.url)
    await befriend(ann, ben)
    const benSocket = await connect(relay.url, ben.token)
    const fromAnn = (status: StatusChangeEvent['status']) => (e: StatusChangeEvent) =>
      e.userId === ann.user.id && e.status === status
    try {
      const online = nextEvent(benSocket, 'user_status_change', fromAnn('online'))
      const phone = await connect(relay.url, ann.token)
      expect(await online).toEqual({ userId: ann.user.id, status: 'online', lastSeen: null })
      const laptop = await connect(relay.url, ann.token)

      const away = nextEvent(benSocket, 'user_status_change', fromAnn('away'))
      expect(await emit(laptop, 'user_status_change', { status: 'away' })).toEqual({ ok: true })
      // The phone is still online, so Ann stays online until the phone leaves.
      expect((await contactsOf(ben)).find((c) => c.user.id === ann.user.id)?.presence?.status).toBe('online')
      phone.close()
      expect(await away).toEqual({ userId: ann.user.id, status: 'away', lastSeen: null })

      const offline = nextEvent(benSocket, 'user_status_change', fromAnn('offline'))
      const leftAt = Date.now()
      laptop.close()
      const event = await offline
      expect(event.lastSeen).toBeGreaterThanOrEqual(leftAt - 1000)
      const listed = (await contactsOf(ben)).find((c) => c.user.id === ann.user.id)
      expect(listed?.presence).toEqual({ status: 'offline', lastSeen: event.lastSeen })
    } finally {
      benSocket.close()
    }
  })

  it('new contacts learn each other’s presence as soon as the request is accepted', async ({ relay }) => {
    const ann = await registerUser(relay.url)
    const ben = await registerUser(relay.url)
    const annSocket = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    try {
      const seen = nextEvent(annSocket, 'user_status_change', (e) => e.userId === ben.user.id)
      await befriend(ann, ben)
      expect(await seen).toEqual({ userId: ben.user.id, status: 'online', lastSeen: null })
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })

  it('a storm of presence changes is handled in chunks: few writes, and the event loop runs between them', async ({
    relay,
  }) => {
    const { sql } = await import('kysely')
    const { PUBLISH_CHUNK } = await import('../src/services/presence')
    // 600 users straight into the database (registering them over HTTP would hash 600 passwords).
    const base = `storm${Date.now() % 1_000_000}`
    const users = await relay.app.db
      .insertInto('users')
      .values(
        Array.from({ length: 600 }, (_, i) => ({
          username: `${base}u${i}`,
          username_key: `${base}u${i}`,
          password_hash: 'x',
          first_name: 'Storm',
          last_name: String(i),
          email: `${base}u${i}@example.com`,
          last_seen_at: null,
          created_at: 1,
          updated_at: 1,
        })),
      )
      .returning('id')
      .execute()
    const ids = users.map((u) => u.id)
    const committer = relay.app.services.committer
    const before = committer.stats.operations
    let timerRanAt = -1
    let settled = 0
    setTimeout(() => {
      timerRanAt = settled
    }, 0)
    const events = await Promise.all(
      ids.map((id) =>
        relay.app.services.presence.publish(id).then((event) => {
          settled++
          return event
        }),
      ),
    )
    expect(events.every((e) => e.status === 'offline' && e.lastSeen !== null)).toBe(true)
    // One last_seen_at write per chunk, not one per user (give or take the disconnects of the
    // previous test's sockets, which may still be publishing on this relay).
    const writes = committer.stats.operations - before
    expect(writes).toBeGreaterThanOrEqual(Math.ceil(ids.length / PUBLISH_CHUNK))
    expect(writes).toBeLessThanOrEqual(Math.ceil(ids.length / PUBLISH_CHUNK) + 2)
    // A timer set before the storm ran before its end: the chunks yield to the event loop.
    expect(timerRanAt).toBeGreaterThanOrEqual(0)
    expect(timerRanAt).toBeLessThan(ids.length)
    const unset = await sql<{
      n: number
    }>`select count(*) as n from users where id in (${sql.join(ids)}) and last_seen_at is null`.execute(
      relay.app.db,
    )
    expect(Number(unset.rows[0]?.n)).toBe(0)
  })
})
