import {
  type Ack,
  type ApiError,
  type ClientEventName,
  type ClientEventPayload,
  type ClientEventResults,
  clientEvents,
  validate,
} from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'
import type { Socket } from 'socket.io'
import { addressKey, clientAddress, type TrustFunction } from '../addresses'
import { isAppError } from '../errors'
import type { SocketData } from '../plugins/realtime'
import { groupRoom, sessionRoom, userRoom } from '../services/realtime'
import { syncPage } from '../services/sync'

/** setTimeout's ceiling (about 24.8 days); longer sessions are re-checked on reconnect. */
const MAX_TIMER_MS = 2 ** 31 - 1

type Handlers = {
  [E in ClientEventName]: (data: SocketData, payload: ClientEventPayload<E>) => Promise<ClientEventResults[E]>
}

export interface SocketLimits {
  /** Events a second from one socket. */
  eventsPerSecond: number
  /** Events a second from all of one user's sockets together, on every relay. */
  eventsPerUserPerSecond: number
  /** Sockets one user may have open at once, on every relay. */
  maxSocketsPerUser: number
  /** Handshakes a minute from one client address (IPv6: its /64), on every relay. */
  handshakesPerMinute: number
}

function refusal(code: ApiError['code'], message: string): Error & { data: ApiError } {
  const error = new Error(code) as Error & { data: ApiError }
  error.data = { code, message }
  return error
}

/** Spends one point of `key`; false when there was none left. A store failure is thrown. */
async function spend(limiter: RateLimiterAbstract, key: string): Promise<boolean> {
  try {
    await limiter.consume(key)
    return true
  } catch (error) {
    if (error instanceof Error) throw error
    return false
  }
}

/**
 * Socket.IO: the handshake carries `auth: {token}`; each event's payload is checked against the
 * shared schema, rate limited per socket and per user, and answered through its ack, never by a
 * crash. One user cannot fill the shared commit queue by opening many sockets: their events share
 * one budget, and their sockets and handshakes are capped.
 */
export const socketHandlers = fp(
  async (
    app: FastifyInstance,
    options: SocketLimits & { trustProxy: TrustFunction; redisKeyPrefix: string; clock?: () => number },
  ) => {
    const clock = options.clock ?? Date.now
    const { io, services, db } = app
    const { messages, presence } = services
    const limiter = new RateLimiterMemory({ points: options.eventsPerSecond, duration: 1 })
    // Shared through Redis when several relays run; each relay falls back to its own count if
    // Redis fails, rather than refusing everything.
    const sharedLimiter = (name: string, points: number, duration: number): RateLimiterAbstract =>
      app.redis
        ? new RateLimiterRedis({
            storeClient: app.redis,
            keyPrefix: `${options.redisKeyPrefix}:${name}`,
            points,
            duration,
            insuranceLimiter: new RateLimiterMemory({ points, duration }),
          })
        : new RateLimiterMemory({ points, duration })
    const userLimiter = sharedLimiter('socket-events', options.eventsPerUserPerSecond, 1)
    const handshakeLimiter = sharedLimiter('socket-handshakes', options.handshakesPerMinute, 60)

    const handlers: Handlers = {
      message: (s, p) => messages.send(s.userId, p),
      message_updated: (s, p) => messages.edit(s.userId, p.id, p.text),
      message_deleted: (s, p) => messages.delete(s.userId, p.id),
      reaction: (s, p) => messages.react(s.userId, p),
      delivered: (s, p) => messages.receipt(s.userId, 'delivered', p),
      read: (s, p) => messages.receipt(s.userId, 'read', p),
      typing: async (s, p) => {
        if (p.group !== undefined) await services.groups.typing(s.userId, p.group, p.typing)
        else await messages.typing(s.userId, p.to!, p.typing)
        return {}
      },
      user_status_change: async (s, p) => {
        s.status = p.status
        await presence.publish(s.userId)
        return {}
      },
      sync: (s, p) => syncPage(db, s.userId, p),
    }

    io.use(async (socket, next) => {
      const address = clientAddress(socket.request, options.trustProxy)
      // Counted before the token is looked at, so a flood of handshakes costs no database reads.
      const handshakeAllowed = await spend(handshakeLimiter, addressKey(address)).catch((err) => {
        app.log.warn({ err }, 'handshake limit unavailable')
        return true
      })
      if (!handshakeAllowed) {
        return next(
          refusal(
            'rate_limited',
            `More than ${options.handshakesPerMinute} connections a minute from your address`,
          ),
        )
      }
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token
      const principal =
        typeof token === 'string' ? await services.auth.authenticate(token, address).catch(() => null) : null
      if (!principal) {
        return next(refusal('unauthorized', 'Sign in first: the handshake needs auth.token'))
      }
      const open = await userSockets(principal.userId).catch(() => [])
      if (open.length >= options.maxSocketsPerUser) {
        return next(
          refusal(
            'rate_limited',
            `You have ${open.length} connections open; close one (at most ${options.maxSocketsPerUser})`,
          ),
        )
      }
      socket.data = {
        userId: principal.userId,
        sessionId: principal.sessionId,
        expiresAt: principal.expiresAt,
        status: 'online',
      }
      next()
    })

    /**
     * Every client event of every socket comes through this one function (`this` is the socket):
     * one listener a socket instead of one closure per event name, which idle sockets pay for in
     * memory. Names that are not client events are ignored, as they were without a listener.
     */
    function onClientEvent(this: Socket, name: string, ...args: unknown[]) {
      if (!Object.hasOwn(handlers, name)) return
      // The ack, if any, is the last argument; exactly one payload may come before it.
      const ack = typeof args.at(-1) === 'function' ? (args.pop() as (result: Ack) => void) : undefined
      if (args.length > 1) {
        const message = `${name}: send one payload, not ${args.length}`
        ack?.({ ok: false, error: { code: 'validation_failed', message } })
        return
      }
      void handle(this, name as ClientEventName, args[0], ack)
    }

    io.on('connection', (socket) => {
      const data = socket.data as SocketData
      // The handshake's HTTP request (headers, parser state, buffers) is not needed once the
      // middleware above has read the address and token; dropping it saves a few KB per idle
      // socket (Socket.IO's "Memory usage" advice; nothing here reads socket.request later).
      ;(socket.conn as { request: unknown }).request = null
      socket.join([userRoom(data.userId), sessionRoom(data.sessionId)])
      // Each group the user is in is a room: its messages and changes reach this socket live.
      services.groups
        .roomsOf(data.userId)
        .then((ids) => socket.join(ids.map(groupRoom)))
        .catch((err) => app.log.warn({ err, userId: data.userId }, 'joining group rooms failed'))
      void enforceSocketCap(socket)
      publish(data.userId)

      socket.onAny(onClientEvent)
      // A socket lives no longer than its token: at expiry it is cut, and the client's reconnect
      // succeeds only if the session was extended meanwhile.
      const expiry = setTimeout(
        () => {
          socket.emit('session_ended', { reason: 'expired' })
          socket.disconnect(true)
        },
        Math.min(data.expiresAt - clock(), MAX_TIMER_MS),
      )
      socket.on('disconnect', () => {
        clearTimeout(expiry)
        publish(data.userId)
      })
    })

    function userSockets(userId: number) {
      return io.in(userRoom(userId)).fetchSockets()
    }

    /**
     * Handshakes that run at the same time all pass the count in the middleware; once joined, each
     * socket counts again, and those beyond the cap (the newest first) leave.
     */
    async function enforceSocketCap(socket: Socket) {
      const { userId } = socket.data as SocketData
      const open = await userSockets(userId).catch(() => [])
      if (open.length <= options.maxSocketsPerUser) return
      const order = (s: { id: string; handshake: { issued: number } }) => [s.handshake.issued, s.id] as const
      const [issued, id] = order(socket)
      const older = open.filter((other) => {
        const [otherIssued, otherId] = order(other)
        return otherIssued < issued || (otherIssued === issued && otherId < id)
      })
      if (older.length >= options.maxSocketsPerUser) socket.disconnect(true)
    }

    function publish(userId: number) {
      presence.publish(userId).catch((err) => app.log.warn({ err, userId }, 'presence update failed'))
    }

    async function handle(
      socket: Socket,
      name: ClientEventName,
      payload: unknown,
      ack?: (result: Ack) => void,
    ) {
      const reply = ack ?? (() => undefined)
      const fail = (error: ApiError) => reply({ ok: false, error })
      if (!(await spend(limiter, socket.id))) {
        return fail({ code: 'rate_limited', message: `More than ${options.eventsPerSecond} events a second` })
      }
      const userId = (socket.data as SocketData).userId
      if (!(await spend(userLimiter, String(userId)).catch(() => true))) {
        const message = `More than ${options.eventsPerUserPerSecond} events a second from all your connections`
        return fail({ code: 'rate_limited', message })
      }
      const checked = validate(clientEvents[name].payload, payload)
      if (!checked.ok) return fail({ code: 'validation_failed', message: `${name}: ${checked.message}` })
      const data = socket.data as SocketData
      try {
        const run = handlers[name] as (d: SocketData, p: unknown) => Promise<object>
        reply({ ok: true, ...(await run(data, checked.value)) })
      } catch (error) {
        if (isAppError(error)) return fail({ code: error.code, message: error.message })
        app.log.error({ err: error, event: name, userId: data.userId }, 'socket event failed')
        fail({ code: 'internal_error', message: 'Something went wrong on the relay' })
      }
    }

    io.engine.on('connection_error', (err: { code: number; message: string }) => {
      app.log.debug({ code: err.code, message: err.message }, 'socket connection error')
    })
  },
  { name: 'socket-handlers', dependencies: ['services', 'realtime'] },
)
