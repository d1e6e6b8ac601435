import type { ClientToServerEvents, PresenceStatus, ServerToClientEvents } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Server } from 'socket.io'
import { groupRoom, type Realtime, sessionRoom, userRoom } from '../services/realtime'
import { coalesceWritesOf } from '../socket/coalesce-writes'

export interface SocketData {
  userId: number
  sessionId: number
  /** When the token used for the handshake expires (as of the handshake). */
  expiresAt: number
  status: 'online' | 'away'
}

export type RelayServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>

declare module 'fastify' {
  interface FastifyInstance {
    io: RelayServer
    realtime: Realtime
  }
}

/**
 * Socket.IO on Fastify's own HTTP server. With Redis, rooms span every relay, so an event sent to
 * `user:42` reaches each of that user's sockets wherever it is connected.
 */
export const realtime = fp(
  async (
    app: FastifyInstance,
    options: {
      maxBufferBytes: number
      corsOrigins: string[]
      /** The Host check of the HTTP routes, for handshakes too (null: no public address set). */
      hostAllowed: ((host: string | undefined) => boolean) | null
      redisKeyPrefix: string
    },
  ) => {
    const { hostAllowed } = options
    const io: RelayServer = new Server(app.server, {
      maxHttpBufferSize: options.maxBufferBytes,
      ...(options.corsOrigins.length > 0 && { cors: { origin: options.corsOrigins } }),
      ...(hostAllowed && {
        allowRequest: (request, callback) =>
          hostAllowed(request.headers.host)
            ? callback(null, true)
            : callback('wrong_host: this relay does not answer to that Host', false),
      }),
      serveClient: false,
      pingInterval: 20_000,
      pingTimeout: 20_000,
      connectionStateRecovery: undefined,
    })
    io.engine.on('connection', coalesceWritesOf)
    if (app.redis) {
      // Loaded only with a Redis configured, as ioredis is (plugins/redis.ts).
      const { createAdapter } = await import('@socket.io/redis-adapter')
      const pub = app.redis.duplicate()
      const sub = app.redis.duplicate()
      io.adapter(
        createAdapter(pub, sub, { key: `${options.redisKeyPrefix}:socket.io`, requestsTimeout: 3000 }),
      )
      app.addHook('onClose', async () => {
        await Promise.allSettled([pub.quit(), sub.quit()])
      })
    }

    // Once closing, nothing more goes out: the Redis clients may already be gone, and the
    // adapter does not await its publishes, so a failure there would escape unhandled.
    let closing = false
    const emit = (rooms: string[], event: string, args: unknown[]) => {
      if (rooms.length === 0 || closing)
        return // The typed surface is Realtime's signature; here the event name is already checked.
      ;(io.to(rooms).emit as (event: string, ...args: unknown[]) => boolean)(event, ...args)
    }
    const service: Realtime = {
      toUsers(userIds, event, ...args) {
        emit(userIds.map(userRoom), event, args)
      },
      toGroup(groupId, exceptUsers, event, ...args) {
        if (closing) return
        let target = io.to(groupRoom(groupId))
        if (exceptUsers.length > 0) target = target.except(exceptUsers.map(userRoom))
        ;(target.emit as (event: string, ...args: unknown[]) => boolean)(event, ...args)
      },
      joinGroup(userIds, groupId) {
        if (closing || userIds.length === 0) return
        io.in(userIds.map(userRoom)).socketsJoin(groupRoom(groupId))
      },
      leaveGroup(userIds, groupId) {
        if (closing || userIds.length === 0) return
        io.in(userIds.map(userRoom)).socketsLeave(groupRoom(groupId))
      },
      publishFeed(events) {
        for (const { userId, event } of events) emit([userRoom(userId)], event.type, [event])
      },
      async liveStatuses(userIds) {
        const result = new Map<number, Exclude<PresenceStatus, 'offline'>>()
        if (userIds.length === 0) return result
        const rooms = io.in(userIds.map(userRoom))
        const sockets = closing ? await rooms.local.fetchSockets() : await rooms.fetchSockets()
        for (const socket of sockets) {
          const { userId, status } = socket.data
          if (result.get(userId) !== 'online') result.set(userId, status)
        }
        return result
      },
      disconnectSession(sessionId, reason) {
        if (closing) return
        emit([sessionRoom(sessionId)], 'session_ended', [{ reason }])
        io.in(sessionRoom(sessionId)).disconnectSockets(true)
      },
    }
    app.decorate('io', io)
    app.decorate('realtime', service)

    // Sockets are cut first so nothing new arrives while queued writes drain.
    app.addHook('preClose', async () => {
      closing = true
      io.local.disconnectSockets(true)
      io.engine.close()
    })
    app.addHook('onClose', async () => {
      await new Promise<void>((resolve) => io.close(() => resolve()))
    })
  },
  { name: 'realtime', dependencies: ['redis'] },
)
