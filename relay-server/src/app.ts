import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import { createAjv } from '@parley/shared'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import { trustFunction } from './addresses'
import type { RelayConfig } from './config'
import { secureDataDir } from './data-dir'
import { AppError } from './errors'
import { hostChecker } from './host-check'
import { auth } from './plugins/auth'
import { database } from './plugins/database'
import { errorHandling } from './plugins/errors'
import { realtime } from './plugins/realtime'
import { redis } from './plugins/redis'
import { services } from './plugins/services'
import { accountRoutes } from './routes/account'
import { authRoutes } from './routes/auth'
import { contactRoutes } from './routes/contacts'
import { fileRoutes } from './routes/files'
import { groupRoutes } from './routes/groups'
import { healthRoutes } from './routes/health'
import { imageRoutes } from './routes/images'
import { messageRoutes } from './routes/messages'
import { sessionRoutes } from './routes/sessions'
import { syncRoutes } from './routes/sync'
import { userRoutes } from './routes/users'
import { socketHandlers } from './socket/handlers'
import { sessionSweep } from './socket/session-sweep'

/** How long a closing relay waits for in-flight requests before cutting their connections. */
const FORCE_CLOSE_AFTER_MS = 5000

export interface BuildOptions {
  logger?: FastifyServerOptions['logger']
  /** The time source for sessions, messages and presence (tests pass their own). */
  clock?: () => number
  /** How often sockets of sessions ended outside the relay (by the admin command) are cut. */
  sessionSweepMs?: number
}

const SESSION_SWEEP_MS = 30_000

/**
 * The relay as a Fastify instance, ready but not listening: `server.ts` listens, tests call
 * `listen({port: 0})` or `inject`. Closing it drains queued writes, then closes the database.
 */
export async function buildApp(config: RelayConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const trustProxy = trustFunction(config.trustProxy)
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: config.maxBodyBytes,
    trustProxy,
    // Closing is handled below, so late requests get our error shape and connections let go.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Requests Fastify rejects before routing (a malformed URL encoding, say) keep our shape.
    frameworkErrors: (error, _request, reply) => {
      ;(reply as FastifyReply)
        .code(400)
        .send({ error: { code: 'validation_failed', message: error.message } })
    },
    // Requests Node cannot even parse as HTTP are answered in our shape, then the connection closes.
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy()
      const tooLarge = error.code === 'HPE_HEADER_OVERFLOW'
      const body = JSON.stringify({
        error: tooLarge
          ? { code: 'payload_too_large', message: 'The request headers are too large' }
          : { code: 'validation_failed', message: 'The request is not valid HTTP' },
      })
      socket.end(
        `HTTP/1.1 ${tooLarge ? '413 Payload Too Large' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      )
    },
  })

  // While closing: refuse new requests with shutting_down, and answer everything with
  // Connection: close so keep-alive clients let go instead of holding the server open.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
    // In-flight requests get a few seconds; then connections still open (a client that keeps
    // streaming a body nobody reads, say) are cut so the relay can stop.
    setTimeout(() => app.server.closeAllConnections(), FORCE_CLOSE_AFTER_MS).unref()
  })
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return
    reply.header('connection', 'close')
    throw new AppError('shutting_down', 'The relay is shutting down; try again shortly')
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close')
    return payload
  })
  // A response that was still finishing when closing began kept its connection off the idle
  // list that close() sweeps once; end it now that it is done.
  app.addHook('onResponse', async (request) => {
    if (closing) request.raw.socket?.end()
  })
  // JSON only: a text/plain body is refused with 415 rather than read as a string.
  app.removeContentTypeParser('text/plain')

  // Bodies are checked exactly (a "5" is not a number); query strings and paths are text, so
  // those are coerced to the schema's types.
  const bodyAjv = createAjv()
  const urlAjv = createAjv({ coerceTypes: true })
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? bodyAjv : urlAjv).compile(schema as object),
  )

  await app.register(errorHandling)
  // A request for another site, or from a page that pointed its own name at the relay (DNS
  // rebinding), is refused before anything else runs.
  const hostAllowed = hostChecker(config.publicUrl)
  if (hostAllowed) {
    const publicHost = new URL(config.publicUrl ?? '').host
    app.addHook('onRequest', async (request) => {
      if (!hostAllowed(request.headers.host)) {
        throw new AppError('wrong_host', `This relay answers to ${publicHost}, not to that Host`)
      }
    })
  }
  await app.register(helmet, { global: true })
  if (config.corsOrigins.length > 0) {
    await app.register(cors, { origin: config.corsOrigins, methods: ['GET', 'POST', 'PATCH', 'DELETE'] })
  }
  await app.register(redis, { redisUrl: config.redisUrl })
  await app.register(rateLimit, {
    max: config.rateLimits.globalPerMinute,
    timeWindow: 60_000,
    ...(app.redis && { redis: app.redis, nameSpace: `${config.redisKeyPrefix}:rate-limit:` }),
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limited', `Too many requests; retry in ${context.after}`),
  })
  // Pictures and files live here on either dialect; SQLite's database file too.
  const notPrivate = secureDataDir(config.dataDir)
  if (notPrivate.length > 0) {
    app.log.warn(
      { paths: notPrivate },
      'another user owns these, so the relay cannot make them private (0700); fix their owner or mode',
    )
  }
  await app.register(database, { databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  await app.register(realtime, {
    maxBufferBytes: config.maxBodyBytes,
    corsOrigins: config.corsOrigins,
    hostAllowed,
    redisKeyPrefix: config.redisKeyPrefix,
  })
  await app.register(services, {
    sessionTtlDays: config.sessionTtlDays,
    sessionMaxDays: config.sessionMaxDays,
    rateLimits: config.rateLimits,
    redisKeyPrefix: config.redisKeyPrefix,
    dataDir: config.dataDir,
    imageGraceMs: config.imageGraceHours * 3600_000,
    feedRetentionMs: config.feedRetentionDays * 86_400_000,
    groupMaxMembers: config.groupMaxMembers,
    registration: config.registration,
    erasedUsernameGraceMs: config.erasedUsernameGraceDays * 86_400_000,
    uploads: config.uploads,
    ...(options.clock && { clock: options.clock }),
  })
  await app.register(auth)

  await app.register(healthRoutes)
  await app.register(authRoutes, { authPerMinute: config.rateLimits.authPerMinute })
  await app.register(sessionRoutes)
  await app.register(accountRoutes)
  await app.register(userRoutes, {
    searchesPerMinute: config.rateLimits.searchesPerMinute,
    redisKeyPrefix: config.redisKeyPrefix,
  })
  await app.register(contactRoutes, {
    contactRequestsPerHour: config.rateLimits.contactRequestsPerHour,
    redisKeyPrefix: config.redisKeyPrefix,
  })
  await app.register(messageRoutes)
  await app.register(groupRoutes)
  await app.register(syncRoutes)
  await app.register(imageRoutes)
  await app.register(fileRoutes)
  await app.register(socketHandlers, {
    eventsPerSecond: config.rateLimits.socketEventsPerSecond,
    eventsPerUserPerSecond: config.rateLimits.socketEventsPerUserPerSecond,
    maxSocketsPerUser: config.rateLimits.maxSocketsPerUser,
    handshakesPerMinute: config.rateLimits.socketHandshakesPerMinute,
    redisKeyPrefix: config.redisKeyPrefix,
    trustProxy,
    ...(options.clock && { clock: options.clock }),
  })
  await app.register(sessionSweep, { intervalMs: options.sessionSweepMs ?? SESSION_SWEEP_MS })
  await app.ready()
  app.log.info(
    { registration: config.registration },
    config.registrationFromEnv
      ? `registration: ${config.registration} (REGISTRATION)`
      : `registration: ${config.registration} (REGISTRATION unset; ${config.registration === 'open' ? 'the relay listens on loopback only' : 'the relay is reachable from other machines'})`,
  )
  return app
}
