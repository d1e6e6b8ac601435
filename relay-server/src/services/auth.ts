import { createHash, randomBytes } from 'node:crypto'
import type { AuthResponse, LoginBody, RegisterBody, SessionResponse } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Database, UserRow } from '../db/schema'
import { AppError, isUniqueViolation } from '../errors'
import * as sessions from '../repositories/sessions'
import * as users from '../repositories/users'
import { hashPassword, verifyPassword } from './passwords'
import type { Realtime } from './realtime'

const DAY = 24 * 60 * 60 * 1000

export interface Principal {
  userId: number
  sessionId: number
  expiresAt: number
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export interface AuthServiceDeps {
  db: Kysely<Database>
  realtime: Realtime
  sessionTtlDays: number
  /** Counts failed sign-ins per username; a locked username is refused before checking. */
  loginFailures: RateLimiterAbstract
  clock?: () => number
}

export class AuthService {
  readonly #deps: AuthServiceDeps
  readonly #clock: () => number

  constructor(deps: AuthServiceDeps) {
    this.#deps = deps
    this.#clock = deps.clock ?? Date.now
  }

  async register(body: RegisterBody): Promise<AuthResponse> {
    const { db } = this.#deps
    if (await users.findUserByUsername(db, body.username)) {
      throw new AppError('username_taken', `The username '${body.username}' is taken`)
    }
    const passwordHash = await hashPassword(body.password)
    const now = this.#clock()
    let user: UserRow
    try {
      user = await users.insertUser(db, {
        username: body.username,
        username_key: body.username.toLowerCase(),
        password_hash: passwordHash,
        first_name: body.firstName.trim(),
        last_name: body.lastName.trim(),
        email: body.email,
        last_seen_at: null,
        created_at: now,
        updated_at: now,
      })
    } catch (error) {
      // Two registrations raced for the same name; the index decided.
      if (isUniqueViolation(error))
        throw new AppError('username_taken', `The username '${body.username}' is taken`)
      throw error
    }
    return this.#startSession(user)
  }

  async login(body: LoginBody): Promise<AuthResponse> {
    const { db, loginFailures } = this.#deps
    const key = body.username.toLowerCase()
    const state = await loginFailures.get(key)
    if (state && state.remainingPoints <= 0) {
      throw new AppError(
        'rate_limited',
        `Too many failed sign-ins for this username; try again in ${Math.ceil(state.msBeforeNext / 60000)} min`,
      )
    }
    const user = await users.findUserByUsername(db, body.username)
    const valid = await verifyPassword(user?.password_hash ?? null, body.password)
    if (!user || !valid) {
      await loginFailures.penalty(key).catch(() => undefined)
      throw new AppError('invalid_credentials', 'Wrong username or password')
    }
    await loginFailures.delete(key)
    return this.#startSession(user)
  }

  async #startSession(user: UserRow): Promise<AuthResponse> {
    const token = randomBytes(32).toString('base64url')
    const now = this.#clock()
    const session = await sessions.insertSession(this.#deps.db, {
      user_id: user.id,
      token_hash: hashToken(token),
      created_at: now,
      expires_at: now + this.#deps.sessionTtlDays * DAY,
    })
    return { user: users.toOwnUser(user), token, expiresAt: session.expires_at }
  }

  /**
   * The principal behind a bearer token, or null. Expiry slides: a session used at least a day
   * after its last extension is extended to a full TTL again.
   */
  async authenticate(token: string): Promise<Principal | null> {
    if (token.length < 16 || token.length > 128) return null
    const { db, sessionTtlDays } = this.#deps
    const session = await sessions.findSessionByHash(db, hashToken(token))
    const now = this.#clock()
    if (!session) return null
    if (session.expires_at <= now) {
      await sessions.deleteSession(db, session.id)
      return null
    }
    let expiresAt = session.expires_at
    if (now - session.last_used_at >= DAY) {
      expiresAt = now + sessionTtlDays * DAY
      await sessions.extendSession(db, session.id, now, expiresAt)
    }
    return { userId: session.user_id, sessionId: session.id, expiresAt }
  }

  async session(principal: Principal): Promise<SessionResponse> {
    const user = await users.findUserById(this.#deps.db, principal.userId)
    if (!user) throw new AppError('unauthorized', 'The account no longer exists')
    return { user: users.toOwnUser(user), expiresAt: principal.expiresAt }
  }

  async logout(principal: Principal): Promise<void> {
    await sessions.deleteSession(this.#deps.db, principal.sessionId)
    this.#deps.realtime.disconnectSession(principal.sessionId, 'signed_out')
  }
}
