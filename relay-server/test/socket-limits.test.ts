import { randomBytes } from 'node:crypto'
import { io } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ClientSocket, connect, emit, registerUser, sleep } from './helpers/client'
import { createPostgresSchema, postgresUrl } from './helpers/dialects'
import { startRelay, type TestRelay } from './helpers/relay'

const redisUrl = process.env.REDIS_URL

/** The error a refused handshake ends with (rejects if the socket connects). */
function refused(
  base: string,
  token: string,
  options: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<{ message: string; data?: { code: string; message: string } }> {
  const socket = io(base, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(options.localAddress && { localAddress: options.localAddress }),
    ...(options.headers && { extraHeaders: options.headers }),
  })
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.close()
      reject(new Error('the handshake was accepted'))
    })
    socket.once('connect_error', (error) => {
      socket.close()
      resolve(error as Error & { data?: { code: string; message: string } })
    })
  })
}

/** Sends `count` sync events at once from each socket; how many were accepted and refused. */
async function burst(sockets: ClientSocket[], count: number) {
  const acks = await Promise.all(
    sockets.flatMap((socket) =>
      Array.from({ length: count }, () => emit(socket, 'sync', { after: 0, limit: 1 })),
    ),
  )
  return {
    accepted: acks.filter((ack) => ack.ok).length,
    limited: acks.filter((ack) => !ack.ok && ack.error.code === 'rate_limited').length,
  }
}

describe('socket limits on one relay', () => {
  let relay: TestRelay
  const open: ClientSocket[] = []
  beforeAll(async () => {
    relay = await startRelay({
      env: {
        SOCKET_EVENTS_PER_SECOND: '5',
        SOCKET_EVENTS_PER_USER_PER_SECOND: '8',
        MAX_SOCKETS_PER_USER: '3',
        SOCKET_HANDSHAKES_PER_MINUTE: '1000000',
      },
    })
  })
  afterAll(async () => {
    for (const socket of open) socket.close()
    await relay.close()
  })
  const opened = async (token: string) => {
    const socket = await connect(relay.url, token)
    open.push(socket)
    return socket
  }

  it("events are limited per user across all of the user's sockets, not only per socket", async () => {
    const user = await registerUser(relay.url)
    const sockets = [await opened(user.token), await opened(user.token)]
    // Five from each socket: within each socket's limit, over the user's.
    expect(await burst(sockets, 5)).toEqual({ accepted: 8, limited: 2 })
    const other = await registerUser(relay.url)
    expect(await burst([await opened(other.token)], 5)).toEqual({ accepted: 5, limited: 0 })
  })

  it('a user may hold MAX_SOCKETS_PER_USER sockets; the next is refused with rate_limited until one closes', async () => {
    const user = await registerUser(relay.url)
    const sockets = [await opened(user.token), await opened(user.token), await opened(user.token)]
    const error = await refused(relay.url, user.token)
    expect(error.message).toBe('rate_limited')
    expect(error.data).toEqual({ code: 'rate_limited', message: expect.stringContaining('at most 3') })
    sockets[0]!.close()
    await sleep(100)
    await opened(user.token)
  })

  it('sockets opened all at once cannot slip past the cap', async () => {
    const user = await registerUser(relay.url)
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => opened(user.token)))
    await sleep(300)
    const connected = attempts.filter(
      (a): a is PromiseFulfilledResult<ClientSocket> => a.status === 'fulfilled' && a.value.connected,
    )
    expect(connected).toHaveLength(3)
    const onRelay = await relay.app.io.in(`user:${user.user.id}`).fetchSockets()
    expect(onRelay).toHaveLength(3)
  })
})

describe('handshakes per address', () => {
  it('are limited per minute, before the token is looked at, also behind a proxy with a rotating X-Forwarded-For', async () => {
    const relay = await startRelay({ env: { SOCKET_HANDSHAKES_PER_MINUTE: '3', TRUST_PROXY: '127.0.0.1' } })
    try {
      const user = await registerUser(relay.url)
      // The client at 127.0.0.2 claims a new address each time; only the proxy (127.0.0.1) is trusted.
      const from = (i: number) => ({
        localAddress: '127.0.0.2',
        headers: { 'x-forwarded-for': `10.9.${i}.1` },
      })
      for (let i = 0; i < 3; i++)
        expect((await refused(relay.url, 'not a real token', from(i))).message).toBe('unauthorized')
      const limited = await refused(relay.url, user.token, from(3))
      expect(limited.data).toEqual({ code: 'rate_limited', message: expect.stringContaining('a minute') })
      // Another address is not affected.
      const socket = await connect(relay.url, user.token)
      socket.close()
    } finally {
      await relay.close()
    }
  })
})

describe.skipIf(!postgresUrl || !redisUrl)('socket limits across two relays sharing Redis', () => {
  let east: TestRelay
  let west: TestRelay
  let dropSchema: () => Promise<void>
  const open: ClientSocket[] = []

  beforeAll(async () => {
    const schema = await createPostgresSchema()
    dropSchema = schema.drop
    const env = {
      REDIS_URL: redisUrl!,
      REDIS_KEY_PREFIX: `parley-test-${randomBytes(4).toString('hex')}`,
      SOCKET_EVENTS_PER_SECOND: '5',
      SOCKET_EVENTS_PER_USER_PER_SECOND: '8',
      MAX_SOCKETS_PER_USER: '2',
    }
    east = await startRelay({ databaseUrl: schema.url, env })
    west = await startRelay({ databaseUrl: schema.url, env })
  })
  afterAll(async () => {
    for (const socket of open) socket.close()
    await east?.close()
    await west?.close()
    await dropSchema?.()
  })

  it("one user's events share one budget on every relay", async () => {
    const user = await registerUser(east.url)
    const sockets = [await connect(east.url, user.token), await connect(west.url, user.token)]
    open.push(...sockets)
    expect(await burst(sockets, 5)).toEqual({ accepted: 8, limited: 2 })
  })

  it("the socket cap counts the user's sockets on every relay", async () => {
    const user = await registerUser(east.url)
    open.push(await connect(east.url, user.token), await connect(west.url, user.token))
    expect((await refused(east.url, user.token)).data?.code).toBe('rate_limited')
    expect((await refused(west.url, user.token)).data?.code).toBe('rate_limited')
  })
})
