import { randomBytes, randomUUID } from 'node:crypto'
import type { FeedEvent } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { befriend, connect, contactsOf, emit, http, nextEvent, registerUser, sleep } from './helpers/client'
import { createPostgresSchema, postgresUrl } from './helpers/dialects'
import { createGroup, groupLog } from './helpers/groups'
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

  it('a group message sent through one relay reaches members on the other, and a newly added member’s sockets join live', async () => {
    const ann = await registerUser(east.url)
    const ben = await registerUser(west.url)
    const cat = await registerUser(west.url)
    await befriend(ann, ben)
    await befriend(ann, cat)
    const group = await createGroup(ann, [ben])
    const annSocket = await connect(east.url, ann.token)
    const benSocket = await connect(west.url, ben.token)
    const catSocket = await connect(west.url, cat.token)
    try {
      await sleep(200) // the sockets join their group rooms just after connecting
      const atBen = nextEvent(benSocket, 'group_event', (e) => e.type === 'message')
      const ack = await emit(annSocket, 'message', {
        clientId: randomUUID(),
        groupId: group.id,
        text: 'to the group',
      })
      if (!ack.ok) throw new Error(ack.error.message)
      expect(await atBen).toMatchObject({ groupId: group.id, seq: ack.seq, data: { text: 'to the group' } })

      // Cat's socket on the west relay joins the room when the east relay adds her.
      const catAdded = nextEvent(catSocket, 'group_added')
      const added = await http(east.url, 'POST', `/groups/${group.id}/members`, {
        token: ann.token,
        body: { userIds: [cat.user.id] },
      })
      expect(added.status).toBe(200)
      expect((await catAdded).data.id).toBe(group.id)
      await sleep(200)
      const atCat = nextEvent(catSocket, 'group_event', (e) => e.type === 'message')
      const second = await emit(annSocket, 'message', {
        clientId: randomUUID(),
        groupId: group.id,
        text: 'hi Cat',
      })
      if (!second.ok) throw new Error(second.error.message)
      expect((await atCat).data).toMatchObject({ text: 'hi Cat' })
      // And when she is removed, the room lets her go on both relays.
      await http(west.url, 'DELETE', `/groups/${group.id}/members/${cat.user.id}`, { token: ann.token })
      await sleep(200)
      const gone: unknown[] = []
      catSocket.on('group_event', (e) => gone.push(e))
      await emit(annSocket, 'message', { clientId: randomUUID(), groupId: group.id, text: 'after Cat' })
      await sleep(300)
      expect(gone).toEqual([])
      const log = await groupLog({ ...ben, base: east.url }, group.id)
      expect(log.body.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
    } finally {
      annSocket.close()
      benSocket.close()
      catSocket.close()
    }
  })
})
