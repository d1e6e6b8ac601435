import path from 'node:path'
import proxyAddr from '@fastify/proxy-addr'

export interface RateLimits {
  /** Requests a minute per client IP for every route. */
  globalPerMinute: number
  /** Sign-in and registration attempts a minute per client IP. */
  authPerMinute: number
  /**
   * Failed sign-ins for a username (from one address, or from anywhere) before attempts wait:
   * 1 s after the last failure, doubling up to `loginMaxDelaySeconds`.
   */
  loginFreeFailures: number
  /** The same for one client address, whatever usernames it tries. */
  loginFreeFailuresPerAddress: number
  loginMaxDelaySeconds: number
  /** Socket events a second per socket (bursts up to this many). */
  socketEventsPerSecond: number
}

export interface RelayConfig {
  host: string
  port: number
  dataDir: string
  databaseUrl: string | undefined
  redisUrl: string | undefined
  /** Prefix of every Redis key and channel, so several deployments can share one Redis. */
  redisKeyPrefix: string
  logLevel: string
  sessionTtlDays: number
  /** The absolute lifetime of a session, however often it is used. */
  sessionMaxDays: number
  /** Origins allowed by CORS; `*` for any (the desktop app's origin varies by mode). */
  corsOrigins: string[] | '*'
  rateLimits: RateLimits
  /** Largest accepted JSON body and Socket.IO message, in bytes. */
  maxBodyBytes: number
  /**
   * Whom to believe about the client's address in `X-Forwarded-For`: nobody (false), the nearest
   * `n` hops, or proxies at these addresses and CIDR ranges. Never "everyone", which would let a
   * client pick its own address and slip past every per-address limit.
   */
  trustProxy: TrustProxy
  /** How long an upload no message or profile uses is kept before garbage collection. */
  imageGraceHours: number
}

export type TrustProxy = false | number | string[]

export class ConfigError extends Error {}

/** TRUST_PROXY: unset or 0 for none, a hop count, or a comma-separated list of addresses and CIDRs. */
export function readTrustProxy(raw: string | undefined): TrustProxy {
  const value = raw?.trim() ?? ''
  if (value === '' || value === '0' || value === 'false') return false
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    if (hops > 10) throw new ConfigError(`TRUST_PROXY must be a hop count from 0 to 10, not '${raw}'`)
    return hops
  }
  if (value === 'true') {
    throw new ConfigError(
      "TRUST_PROXY=true would let any client choose its own address; give the number of proxies in front of the relay (usually 1) or their addresses, e.g. '127.0.0.1'",
    )
  }
  const list = value.split(',').map((item) => item.trim())
  try {
    proxyAddr.compile(list)
  } catch (error) {
    throw new ConfigError(
      `TRUST_PROXY must be a hop count or addresses and CIDR ranges (127.0.0.1, 10.0.0.0/8, loopback): ${(error as Error).message}`,
    )
  }
  return list
}

/** A whole number from the environment within [min, max], or `fallback` when unset. */
export function readInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not '${raw}'`)
  }
  return value
}

/** The relay's settings from the environment; defaults suit one machine with no other services. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL')
  }
  const redisUrl = env.REDIS_URL || undefined
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL')
  }
  const origins = (env.CORS_ORIGINS ?? '*').trim()
  return {
    host: env.HOST || '127.0.0.1',
    port: readInteger(env, 'PORT', 8080, 0, 65535),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl,
    redisUrl,
    redisKeyPrefix: env.REDIS_KEY_PREFIX || 'parley',
    logLevel: env.LOG_LEVEL || 'info',
    sessionTtlDays: readInteger(env, 'SESSION_TTL_DAYS', 30, 1, 3650),
    sessionMaxDays: readInteger(env, 'SESSION_MAX_DAYS', 180, 1, 3650),
    corsOrigins: origins === '*' ? '*' : origins.split(',').map((o) => o.trim()),
    rateLimits: {
      globalPerMinute: readInteger(env, 'RATE_LIMIT_PER_MINUTE', 1200, 1, 10_000_000),
      authPerMinute: readInteger(env, 'RATE_LIMIT_AUTH_PER_MINUTE', 20, 1, 10_000_000),
      loginFreeFailures: readInteger(env, 'LOGIN_FREE_FAILURES', 5, 1, 10_000_000),
      loginFreeFailuresPerAddress: readInteger(env, 'LOGIN_FREE_FAILURES_PER_ADDRESS', 20, 1, 10_000_000),
      loginMaxDelaySeconds: readInteger(env, 'LOGIN_MAX_DELAY_SECONDS', 900, 1, 24 * 3600),
      socketEventsPerSecond: readInteger(env, 'SOCKET_EVENTS_PER_SECOND', 50, 1, 10_000_000),
    },
    maxBodyBytes: readInteger(env, 'MAX_BODY_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
    trustProxy: readTrustProxy(env.TRUST_PROXY),
    imageGraceHours: readInteger(env, 'IMAGE_GRACE_HOURS', 24, 1, 24 * 365),
  }
}
