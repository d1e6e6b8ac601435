import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'
import type { RateLimits } from '../config'
import { AuthService } from '../services/auth'
import { Committer } from '../services/committer'
import { ContactService } from '../services/contacts'
import { MessageService } from '../services/messages'
import { PresenceService } from '../services/presence'
import { userRoom } from '../services/realtime'
import { UserService } from '../services/users'

export interface Services {
  auth: AuthService
  users: UserService
  contacts: ContactService
  messages: MessageService
  presence: PresenceService
  committer: Committer
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
  }
}

export interface ServicesOptions {
  sessionTtlDays: number
  rateLimits: RateLimits
  redisKeyPrefix: string
  clock?: () => number
}

export const services = fp(
  async (app: FastifyInstance, options: ServicesOptions) => {
    const { db, io, realtime } = app
    const clock = options.clock ?? Date.now
    const committer = new Committer(db, {
      clock,
      // Live copies of committed feed events, to every socket of each user on every relay.
      onCommitted: (events) => {
        for (const { userId, event } of events) {
          // biome-ignore lint/suspicious/noExplicitAny: the event union matches ServerToClientEvents by type
          ;(io.to(userRoom(userId)) as any).emit(event.type, event)
        }
      },
    })
    const lockSeconds = options.rateLimits.loginLockMinutes * 60
    const loginFailures: RateLimiterAbstract = app.redis
      ? new RateLimiterRedis({
          storeClient: app.redis,
          keyPrefix: `${options.redisKeyPrefix}:login-failures`,
          points: options.rateLimits.loginFailuresPerUsername,
          duration: lockSeconds,
        })
      : new RateLimiterMemory({ points: options.rateLimits.loginFailuresPerUsername, duration: lockSeconds })
    const presence = new PresenceService({ db, realtime, clock })
    app.decorate('services', {
      committer,
      presence,
      auth: new AuthService({ db, realtime, sessionTtlDays: options.sessionTtlDays, loginFailures, clock }),
      users: new UserService({ db, committer }),
      contacts: new ContactService({ db, committer, presence }),
      messages: new MessageService({ db, committer, realtime }),
    })
    // Registered after the database plugin, so this runs before the database closes.
    app.addHook('onClose', async () => {
      await committer.close()
    })
  },
  { name: 'services', dependencies: ['database', 'realtime'] },
)
