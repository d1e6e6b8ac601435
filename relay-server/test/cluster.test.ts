import { randomBytes, randomUUID } from 'node:crypto'
import type { FeedEvent } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { befriend, connect, contactsOf, emit, http, nextEvent, registerUser } from './helpers/client'
import { createPostgresSchema, postgresUrl } from './helpers/dialects'
import { startRelay, type TestRelay } from './helpers/relay'

const redisUrl = process.env.REDIS_URL

describe.skipIf(!postgresUrl || !redisUrl)('two relays sharing PostgreSQL and Redis', () => {
  let east: TestRelay
  let west: TestRelay
  let dropSchema: () => Promise<void>

  beforeAll(async () => {
    const schema = await createPostgresSchema()
    dropSchema = schema.drop
    const env = { REDIS_URL: redisUrl!, REDIS_KEY_PREFIX: `parley-test-${randomBytes(4).toString('hex')}` }
    east = await startRelay({ databaseUrl: schema.url, env })
    west = await startRelay({ databaseUrl: schema.url, env })
  })
  afterAll(async () => {
    await east?.close()
    await west?.close()
    await dropSchema?.()
  })

  it('a message sent through one relay arrives live at a socket on the other', async () => {
    const ann = await registerUser(east.url)
    const ben = { ...(await registerUser(west.url)) }
    await befriend(ann, ben)
    const annSocket = await connect(east.url, ann.token)
    const benSocket = await connect(west.url, ben.token)
    try {
      const arrived = nextEvent(benSocket, 'message')
      const ack = await emit(annSocket, 'message', {
        clientId: randomUUID(),
        recipientId: ben.user.id,
        text: 'across relays',
      })
      expect(ack.ok).toBe(true)
      expect((await arrived).data.text).toBe('across relays')
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })

  it('presence counts sockets on every relay, and a logout on one cuts sockets on the other', async () => {
    const ann = await registerUser(east.url)
    const ben = await registerUser(west.url)
    await befriend(ann, ben)
    const benSocket = await connect(west.url, ben.token)
    try {
      const online = nextEvent(
        benSocket,
        'user_status_change',
        (e) => e.userId === ann.user.id && e.status === 'online',
      )
      const annSocket = await connect(east.url, ann.token)
      await online
      const seenFromWest = (await contactsOf({ ...ann, base: west.url, token: ben.token })).find(
        (c) => c.user.id === ann.user.id,
      )
      expect(seenFromWest?.presence).toEqual({ status: 'online', lastSeen: null })

      const cut = new Promise<string>((resolve) => annSocket.on('disconnect', resolve))
      const offline = nextEvent(
        benSocket,
        'user_status_change',
        (e) => e.userId === ann.user.id && e.status === 'offline',
      )
      expect((await http(west.url, 'DELETE', '/logout', { token: ann.token })).status).toBe(204)
      expect(await cut).toBe('io server disconnect')
      expect((await offline).lastSeen).toEqual(expect.any(Number))
    } finally {
      benSocket.close()
    }
  })

  it('concurrent sends through both relays keep the recipient’s seqs contiguous', async () => {
    const hub = await registerUser(east.url)
    const a = await registerUser(east.url)
    const b = await registerUser(west.url)
    await befriend(a, hub)
    await befriend(b, hub)
    const aSocket = await connect(east.url, a.token)
    const bSocket = await connect(west.url, b.token)
    const sends = Array.from({ length: 60 }, (_, i) =>
      emit(i % 2 ? bSocket : aSocket, 'message', {
        clientId: randomUUID(),
        recipientId: hub.user.id,
        text: `n${i}`,
      }),
    )
    const acks = await Promise.all(sends)
    aSocket.close()
    bSocket.close()
    expect(acks.every((ack) => ack.ok)).toBe(true)
    const feed = await http<{ events: FeedEvent[] }>(west.url, 'GET', '/sync?after=0&limit=1000', {
      token: hub.token,
    })
    const seqs = feed.body.events.map((e) => e.seq)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
    expect(feed.body.events.filter((e) => e.type === 'message')).toHaveLength(60)
  })
})
