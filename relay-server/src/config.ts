import path from 'node:path'
import proxyAddr from '@fastify/proxy-addr'
import { DEFAULT_MAX_FILE_BYTES } from '@parley/shared/limits'

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
  /** Socket events a second from all of one user's sockets together (shared through Redis). */
  socketEventsPerUserPerSecond: number
  /** Sockets one user may have open at once. */
  maxSocketsPerUser: number
  /** Socket handshakes a minute from one client address. */
  socketHandshakesPerMinute: number
  /** User searches (`GET /users`) a minute per user. */
  searchesPerMinute: number
  /** Contact requests (`POST /contacts`) an hour per user. */
  contactRequestsPerHour: number
  /** Writes waiting for the database beyond which new ones are refused with rate_limited. */
  writeBacklog: number
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
  /**
   * Origins allowed by CORS. Empty (the default): no CORS at all, since neither client needs it
   * (the desktop app talks to the relay from Node, not from a web page).
   */
  corsOrigins: string[]
  /** The address people use for the relay; when set, requests must name its host (or loopback). */
  publicUrl: string | undefined
  rateLimits: RateLimits
  /** Largest accepted JSON body and Socket.IO message, in bytes. */
  maxBodyBytes: number
  /**
   * Whom to believe about the client's address in `X-Forwarded-For`: nobody (false), the nearest
   * `n` hops, or proxies at these addresses and CIDR ranges. Never "everyone", which would let a
   * client pick its own address and slip past every per-address limit.
   */
  trustProxy: TrustProxy
  registration: Registration
  /** Whether `registration` was chosen by the operator or derived from HOST. */
  registrationFromEnv: boolean
  /** How long an upload no message or profile uses is kept before garbage collection. */
  imageGraceHours: number
  /** Feed events older than this many days are compacted (0: kept forever). */
  feedRetentionDays: number
  /** How long an erased account's username stays reserved before others may register it. */
  erasedUsernameGraceDays: number
  uploads: UploadLimits
  /** The most members a group may have (every way in counts: create, add, invite). */
  groupMaxMembers: number
}

export interface UploadLimits {
  /** Uploads one user may have in progress at once (per relay process), pictures and files together. */
  maxPerUser: number
  /** Stored bytes of one user's pictures and files; null for no limit. */
  quotaBytes: number | null
  /** The largest file `POST /files` takes. */
  maxFileBytes: number
  /** Images the relay decodes at once; each takes up to two threads of libuv's pool of four. */
  decodeConcurrency: number
}

export type TrustProxy = false | number | string[]

/** Who may create an account: anyone, people with an invite code, or only operators (the CLI). */
export type Registration = 'open' | 'invite' | 'closed'

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

/** Whether HOST names only this machine, so nobody else can reach the relay to register. */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name)
}

/**
 * REGISTRATION: open, invite or closed. Unset, a relay that listens only on loopback is open (a
 * two-command start for one machine) and any other is by invitation, so exposing a relay never
 * opens it to strangers by accident.
 */
export function readRegistration(raw: string | undefined, host: string): Registration {
  const value = raw?.trim().toLowerCase() ?? ''
  if (value === '') return isLoopbackHost(host) ? 'open' : 'invite'
  if (value === 'open' || value === 'invite' || value === 'closed') return value
  throw new ConfigError(`REGISTRATION must be open, invite or closed, not '${raw}'`)
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

/** CORS_ORIGINS: a comma-separated allowlist of origins (`https://app.example.org`), or nothing. */
function readOrigins(raw: string | undefined): string[] {
  const value = raw?.trim() ?? ''
  if (value === '') return []
  return value.split(',').map((item) => {
    const origin = item.trim()
    let parsed: URL | undefined
    try {
      parsed = new URL(origin)
    } catch {
      parsed = undefined
    }
    if (!parsed || parsed.origin !== origin || !/^https?:$/.test(parsed.protocol)) {
      throw new ConfigError(
        `CORS_ORIGINS lists origins such as https://app.example.org (scheme, host and port, no path and no '*'), not '${origin}'`,
      )
    }
    return origin
  })
}

function readPublicUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim() ?? ''
  if (value === '') return undefined
  let parsed: URL | undefined
  try {
    parsed = new URL(value)
  } catch {
    parsed = undefined
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.username || parsed.search || parsed.hash) {
    throw new ConfigError(
      `PUBLIC_URL must be the relay's http(s) address, such as https://chat.example.org, not '${value}'`,
    )
  }
  return parsed.href
}

const MIB = 1024 * 1024

/**
 * USER_QUOTA_BYTES, or the older UPLOAD_QUOTA_MB (megabytes; kept working, deprecated): one of the
 * two, so an operator never wonders which one counts. 0 for no quota; 1 GiB when neither is set.
 */
function readQuotaBytes(env: NodeJS.ProcessEnv): number | null {
  const given = (name: string) => (env[name] ?? '') !== ''
  if (given('USER_QUOTA_BYTES') && given('UPLOAD_QUOTA_MB')) {
    throw new ConfigError('Set USER_QUOTA_BYTES or the older UPLOAD_QUOTA_MB, not both')
  }
  const bytes = given('USER_QUOTA_BYTES')
    ? readInteger(env, 'USER_QUOTA_BYTES', 1024 * MIB, 0, Number.MAX_SAFE_INTEGER)
    : readInteger(env, 'UPLOAD_QUOTA_MB', 1024, 0, 10_000_000) * MIB
  return bytes === 0 ? null : bytes
}

function readUploadLimits(env: NodeJS.ProcessEnv): UploadLimits {
  return {
    maxPerUser: readInteger(env, 'MAX_UPLOADS_PER_USER', 2, 1, 100),
    quotaBytes: readQuotaBytes(env),
    maxFileBytes: readInteger(env, 'MAX_FILE_BYTES', DEFAULT_MAX_FILE_BYTES, 1, 64 * 1024 * MIB),
    decodeConcurrency: readInteger(env, 'IMAGE_DECODE_CONCURRENCY', 1, 1, 64),
  }
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
  const host = env.HOST || '127.0.0.1'
  return {
    host,
    port: readInteger(env, 'PORT', 8080, 0, 65535),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl,
    redisUrl,
    redisKeyPrefix: env.REDIS_KEY_PREFIX || 'parley',
    logLevel: env.LOG_LEVEL || 'info',
    sessionTtlDays: readInteger(env, 'SESSION_TTL_DAYS', 30, 1, 3650),
    sessionMaxDays: readInteger(env, 'SESSION_MAX_DAYS', 180, 1, 3650),
    corsOrigins: readOrigins(env.CORS_ORIGINS),
    publicUrl: readPublicUrl(env.PUBLIC_URL),
    rateLimits: {
      globalPerMinute: readInteger(env, 'RATE_LIMIT_PER_MINUTE', 1200, 1, 10_000_000),
      authPerMinute: readInteger(env, 'RATE_LIMIT_AUTH_PER_MINUTE', 20, 1, 10_000_000),
      loginFreeFailures: readInteger(env, 'LOGIN_FREE_FAILURES', 5, 1, 10_000_000),
      loginFreeFailuresPerAddress: readInteger(env, 'LOGIN_FREE_FAILURES_PER_ADDRESS', 20, 1, 10_000_000),
      loginMaxDelaySeconds: readInteger(env, 'LOGIN_MAX_DELAY_SECONDS', 900, 1, 24 * 3600),
      socketEventsPerSecond: readInteger(env, 'SOCKET_EVENTS_PER_SECOND', 50, 1, 10_000_000),
      socketEventsPerUserPerSecond: readInteger(env, 'SOCKET_EVENTS_PER_USER_PER_SECOND', 100, 1, 10_000_000),
      maxSocketsPerUser: readInteger(env, 'MAX_SOCKETS_PER_USER', 20, 1, 10_000),
      socketHandshakesPerMinute: readInteger(env, 'SOCKET_HANDSHAKES_PER_MINUTE', 60, 1, 10_000_000),
      searchesPerMinute: readInteger(env, 'SEARCHES_PER_MINUTE', 60, 1, 10_000_000),
      contactRequestsPerHour: readInteger(env, 'CONTACT_REQUESTS_PER_HOUR', 50, 1, 10_000_000),
      writeBacklog: readInteger(env, 'WRITE_BACKLOG', 10_000, 100, 1_000_000),
    },
    maxBodyBytes: readInteger(env, 'MAX_BODY_BYTES', 64 * 1024, 1024, 10 * 1024 * 1024),
    trustProxy: readTrustProxy(env.TRUST_PROXY),
    imageGraceHours: readInteger(env, 'IMAGE_GRACE_HOURS', 24, 1, 24 * 365),
    feedRetentionDays: readInteger(env, 'FEED_RETENTION_DAYS', 90, 0, 36_500),
    groupMaxMembers: readInteger(env, 'GROUP_MAX_MEMBERS', 1000, 2, 100_000),
    erasedUsernameGraceDays: readInteger(env, 'ERASED_USERNAME_GRACE_DAYS', 30, 0, 3650),
    uploads: readUploadLimits(env),
    registration: readRegistration(env.REGISTRATION, host),
    registrationFromEnv: (env.REGISTRATION?.trim() ?? '') !== '',
  }
}
