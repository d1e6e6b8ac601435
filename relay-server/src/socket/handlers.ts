import {
  type Ack,
  type ApiError,
  type ClientEventName,
  type ClientEventPayload,
  type ClientEventResults,
  clientEventPayloads,
  validate,
} from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import type { Socket } from 'socket.io'
import { clientAddress, type TrustFunction } from '../addresses'
import { isAppError } from '../errors'
import type { SocketData } from '../plugins/realtime'
import { sessionRoom, userRoom } from '../services/realtime'
import { syncPage } from '../services/sync'

/** setTimeout's ceiling (about 24.8 days); longer sessions are re-checked on reconnect. */
const MAX_TIMER_MS = 2 ** 31 - 1

type Handlers = {
  [E in ClientEventName]: (data: SocketData, payload: ClientEventPayload<E>) => Promise<ClientEventResults[E]>
}

/**
 * Socket.IO: the handshake carries `auth: {token}`; each event's payload is checked against the
 * shared schema, rate limited per socket, and answered through its ack, never by a crash.
 */
export const socketHandlers = fp(
  async (
    app: FastifyInstance,
    options: { eventsPerSecond: number; trustProxy: TrustFunction; clock?: () => number },
  ) => {
    const clock = options.clock ?? Date.now
    const { io, services, db } = app
    const { messages, presence } = services
    const limiter = new RateLimiterMemory({ points: options.eventsPerSecond, duration: 1 })

    const handlers: Handlers = {
      message: (s, p) => messages.send(s.userId, p),
      message_updated: (s, p) => messages.edit(s.userId, p.id, p.text),
      message_deleted: (s, p) => messages.delete(s.userId, p.id),
      reaction: (s, p) => messages.react(s.userId, p),
      delivered: (s, p) => messages.receipt(s.userId, 'delivered', p),
      read: (s, p) => messages.receipt(s.userId, 'read', p),
      typing: async (s, p) => {
        await messages.typing(s.userId, p.to, p.typing)
        return {}
      },
      user_status_change: async () => ({}),
      sync: (s, p) => syncPage(db, s.userId, p),
    }

    io.use(async (socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token
      const principal =
        typeof token === 'string'
          ? await services.auth
              .authenticate(token, clientAddress(socket.request, options.trustProxy))
              .catch(() => null)
          : null
      if (!principal) {
        const error = new Error('unauthorized') as Error & { data: ApiError }
        error.data = { code: 'unauthorized', message: 'Sign in first: the handshake needs auth.token' }
        return next(error)
      }
      socket.data = {
        userId: principal.userId,
        sessionId: principal.sessionId,
        expiresAt: principal.expiresAt,
        status: 'online',
      }
      next()
    })

    io.on('connection', (socket) => {
      const data = socket.data as SocketData
      socket.join([userRoom(data.userId), sessionRoom(data.sessionId)])
      publish(data.userId)

      for (const name of Object.keys(handlers) as ClientEventName[]) {
        socket.on(name, (...args: unknown[]) => {
          // The ack, if any, is the last argument; exactly one payload may come before it.
          const ack = typeof args.at(-1) === 'function' ? (args.pop() as (result: Ack) => void) : undefined
          if (args.length > 1) {
            const message = `${name}: send one payload, not ${args.length}`
            ack?.({ ok: false, error: { code: 'validation_failed', message } })
            return
          }
          void handle(socket as Socket, name, args[0], ack)
        })
      }
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
      try {
        await limiter.consume(socket.id)
      } catch {
        return fail({ code: 'rate_limited', message: `More than ${options.eventsPerSecond} events a second` })
      }
      const checked = validate(clientEventPayloads[name], payload)
      if (!checked.ok) return fail({ code: 'validation_failed', message: `${name}: ${checked.message}` })
      const data = socket.data as SocketData
      try {
        if (name === 'user_status_change') {
          data.status = (checked.value as ClientEventPayload<'user_status_change'>).status
          await presence.publish(data.userId)
          return reply({ ok: true })
        }
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
