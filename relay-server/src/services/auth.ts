import { createHash, randomBytes } from 'node:crypto'
import type {
  AuthResponse,
  ChangePasswordBody,
  LoginBody,
  RegisterBody,
  SessionInfo,
  SessionResponse,
} from '@parley/shared'
import type { Kysely } from 'kysely'
import { addressKey, displayAddress } from '../addresses'
import type { Registration } from '../config'
import type { Database, UserRow } from '../db/schema'
import { AppError, isAppError, isUniqueViolation } from '../errors'
import { isInviteUsable, takeInviteUse } from '../repositories/invites'
import * as sessions from '../repositories/sessions'
import * as signInAddresses from '../repositories/sign-in-addresses'
import * as users from '../repositories/users'
import type { Committer } from './committer'
import { hashPassword, verifyPassword } from './passwords'
import type { Realtime } from './realtime'
import type { FailureStore, Gate } from './sign-in-throttle'

const DAY = 24 * 60 * 60 * 1000
/**
 * How stale a session's last-used time may be: a use within this long of the recorded one writes
 * nothing, so an active client costs one write a minute, not one per request.
 */
export const LAST_USED_RESOLUTION_MS = 60_000
/**
 * How long an address a user signed in from stays known: a sign-in from a known address is slowed
 * down only by its own failures there, not by failures for the username from elsewhere.
 */
export const KNOWN_ADDRESS_MS = 180 * DAY

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
  /** Records of a session's use go through it: a storm of reconnects shares a few commits. */
  committer: Committer
  realtime: Realtime
  sessionTtlDays: number
  /** No session lives longer than this from its start, however often it is used. */
  sessionMaxDays: number
  /** Counts failed sign-ins (and failed current passwords) and says how long to wait. */
  failures: FailureStore
  /** Failures a username, or one username from one address, may have before attempts wait. */
  freeFailures: number
  /** Failures one address (any usernames) may have before its attempts wait. */
  freeFailuresPerAddress: number
  /** Who may register through `POST /users` (operators create accounts with the CLI regardless). */
  registration: Registration
  clock?: () => number
}

/** The counters of a sign-in attempt: this username from this address, the username, the address. */
function signInKeys(username: string, address: string) {
  return { pair: `pair:${address}|${username}`, user: `user:${username}`, address: `address:${address}` }
}

function slowDown(waitMs: number, what: string): AppError {
  const seconds = Math.ceil(waitMs / 1000)
  return new AppError('rate_limited', `Too many failed ${what}; try again in ${seconds} s`, {
    retryAfterSeconds: seconds,
  })
}

export class AuthService {
  readonly #deps: AuthServiceDeps
  readonly #clock: () => number

  constructor(deps: AuthServiceDeps) {
    this.#deps = deps
    this.#clock = deps.clock ?? Date.now
  }

  /** `address` is the client's, as the relay sees it (behind a trusted proxy, the forwarded one). */
  async register(body: RegisterBody, address: string | null): Promise<AuthResponse> {
    const { db, registration } = this.#deps
    if (registration === 'closed') {
      throw new AppError(
        'registration_closed',
        'This relay does not take new accounts; ask its operator for one',
      )
    }
    const invite = registration === 'invite' ? body.invite : undefined
    if (registration === 'invite' && invite === undefined) {
      throw new AppError(
        'invite_required',
        'Registering on this relay needs an invite code from its operator',
      )
    }
    const now = this.#clock()
    // Before the username is looked at: without a good code nobody learns which names exist.
    if (invite !== undefined && !(await isInviteUsable(db, invite, now))) {
      throw new AppError('invite_required', 'That invite code is unknown, used up or expired')
    }
    if (await users.findUserByUsername(db, body.username)) {
      throw new AppError('username_taken', `The username '${body.username}' is taken`)
    }
    const passwordHash = await hashPassword(body.password)
    let user: UserRow
    try {
      // The invite's use and the account commit together: a taken username gives the use back.
      user = await db.transaction().execute(async (trx) => {
        if (invite !== undefined && !(await takeInviteUse(trx, invite, now))) {
          throw new AppError('invite_required', 'That invite code is unknown, used up or expired')
        }
        return users.insertUser(trx, {
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
      })
    } catch (error) {
      // Two registrations raced for the same name; the index decided.
      if (isUniqueViolation(error))
        throw new AppError('username_taken', `The username '${body.username}' is taken`)
      throw error
    }
    await this.#rememberAddress(user.id, address, now)
    return this.#startSession(user, body.deviceName, address)
  }

  /**
   * Failed attempts slow down (see sign-in-throttle.ts): per username from this address always;
   * per username and per address too unless the user signed in from this address before, so that
   * failures from elsewhere never keep a known device out. The attempt is charged before the
   * password is checked and given back if it was right, so parallel guesses cannot slip through.
   */
  async login(body: LoginBody, address: string | null): Promise<AuthResponse> {
    const { db, failures, freeFailures, freeFailuresPerAddress } = this.#deps
    const now = this.#clock()
    const from = address === null ? 'unknown' : addressKey(address)
    const keys = signInKeys(body.username.toLowerCase(), from)
    const user = await users.findUserByUsername(db, body.username)
    const known =
      user !== undefined &&
      (await signInAddresses.isKnownSignInAddress(db, user.id, from, now - KNOWN_ADDRESS_MS))
    const gates: Gate[] = [{ key: keys.pair, free: freeFailures }]
    if (!known) {
      gates.push({ key: keys.user, free: freeFailures }, { key: keys.address, free: freeFailuresPerAddress })
    }
    const wait = await failures.reserve(gates, [keys.pair, keys.user, keys.address], now)
    if (wait > 0) throw slowDown(wait, 'sign-ins')
    // An erased account is checked against the decoy, as if it did not exist.
    const hash = user && user.erased_at === null ? user.password_hash : null
    const valid = await verifyPassword(hash, body.password)
    if (!user || hash === null || !valid)
      throw new AppError('invalid_credentials', 'Wrong username or password')
    // Said only to someone who knows the password, so it reveals nothing to a guesser.
    if (user.deactivated_at !== null) {
      await failures.release([keys.user, keys.address])
      throw new AppError('account_deactivated', "This account was deactivated by the relay's operator")
    }
    await failures.clear([keys.pair])
    await failures.release([keys.user, keys.address])
    await this.#rememberAddress(user.id, address, now)
    return this.#startSession(user, body.deviceName, address)
  }

  async #rememberAddress(userId: number, address: string | null, now: number): Promise<void> {
    if (address === null) return
    await signInAddresses.rememberSignInAddress(
      this.#deps.db,
      userId,
      addressKey(address),
      now,
      now - KNOWN_ADDRESS_MS,
    )
  }

  async #startSession(
    user: UserRow,
    deviceName: string | undefined,
    address: string | null,
  ): Promise<AuthResponse> {
    const token = randomBytes(32).toString('base64url')
    const now = this.#clock()
    const session = await sessions.insertSession(this.#deps.db, {
      user_id: user.id,
      token_hash: hashToken(token),
      created_at: now,
      expires_at: this.#expiry(now, now),
      device_name: deviceName ?? null,
      address: address === null ? null : displayAddress(address),
    })
    return { user: users.toOwnUser(user), token, expiresAt: session.expires_at }
  }

  /** A full sliding lifetime from `now`, but never past the absolute end of the session. */
  #expiry(createdAt: number, now: number): number {
    return Math.min(now + this.#deps.sessionTtlDays * DAY, createdAt + this.#deps.sessionMaxDays * DAY)
  }

  /**
   * The principal behind a bearer token, or null. Expiry slides: a session used a day or more after
   * its last extension is extended to a full TTL again, but never past SESSION_MAX_DAYS from its
   * start. Uses are recorded (time, address, expiry) at most once per LAST_USED_RESOLUTION_MS.
   */
  async authenticate(token: string, address: string | null = null): Promise<Principal | null> {
    if (token.length < 16 || token.length > 128) return null
    const { db } = this.#deps
    const session = await sessions.findSessionByHash(db, hashToken(token))
    const now = this.#clock()
    if (!session) return null
    // The absolute end is checked too, in case SESSION_MAX_DAYS was lowered since the last use.
    let expiresAt = Math.min(session.expires_at, session.created_at + this.#deps.sessionMaxDays * DAY)
    if (expiresAt <= now) {
      await sessions.deleteSession(db, session.id)
      return null
    }
    if (now - session.last_used_at >= LAST_USED_RESOLUTION_MS) {
      const stored = expiresAt
      // Slid a day or more ago (its expiry is a day or more short of a full TTL): slide it again.
      if (now + this.#deps.sessionTtlDays * DAY - session.expires_at >= DAY) {
        expiresAt = this.#expiry(session.created_at, now)
      }
      const seenFrom = address === null ? null : displayAddress(address)
      // Through the committer, not a statement of its own: each of those was a transaction with
      // its own fsync on the event loop, and 5,000 sockets coming back at once made 5,000 of them.
      const use = { now, expiresAt, address: seenFrom }
      const recorded = await this.#deps.committer
        .run(({ trx }) => sessions.touchSession(trx, session.id, use))
        .then(
          () => true,
          (error: unknown) => {
            // Over capacity, the use goes unrecorded this time (the next one, a minute on, records
            // it) and the expiry does not slide; the token is still good. Anything else is a failure.
            if (isAppError(error) && (error.code === 'rate_limited' || error.code === 'shutting_down'))
              return false
            throw error
          },
        )
      if (!recorded) expiresAt = stored
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

  /**
   * Checks the signed-in user's password again (before a password change or an erasure); a wrong
   * one is `invalid_credentials`, and repeated failures on one session slow down.
   */
  async confirmPassword(principal: Principal, password: string): Promise<UserRow> {
    const { db, failures, freeFailures } = this.#deps
    const user = await users.findUserById(db, principal.userId)
    if (!user) throw new AppError('unauthorized', 'The account no longer exists')
    // Someone holding a stolen token must not be able to guess the password at leisure.
    const key = `session:${principal.sessionId}`
    const wait = await failures.reserve([{ key, free: freeFailures }], [key], this.#clock())
    if (wait > 0) throw slowDown(wait, 'password checks')
    if (!(await verifyPassword(user.password_hash, password))) {
      throw new AppError('invalid_credentials', 'The password is wrong')
    }
    await failures.clear([key])
    return user
  }

  /** Needs the current password; signs out (and disconnects) every other session of the user. */
  async changePassword(principal: Principal, body: ChangePasswordBody): Promise<void> {
    const { db } = this.#deps
    const user = await this.confirmPassword(principal, body.currentPassword)
    const passwordHash = await hashPassword(body.newPassword)
    const ended = await db.transaction().execute(async (trx) => {
      await users.setPasswordHash(trx, user.id, passwordHash, this.#clock())
      return sessions.deleteOtherSessions(trx, user.id, principal.sessionId)
    })
    this.#disconnect(ended)
  }

  async listSessions(principal: Principal): Promise<SessionInfo[]> {
    const rows = await sessions.listUserSessions(this.#deps.db, principal.userId, this.#clock())
    return rows.map((row) => ({
      id: row.id,
      deviceName: row.device_name,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      address: row.address,
      current: row.id === principal.sessionId,
    }))
  }

  /** Signs out one session of the user's own; someone else's is as unknown as a missing one. */
  async endSession(principal: Principal, sessionId: number): Promise<void> {
    if (!(await sessions.deleteUserSession(this.#deps.db, principal.userId, sessionId))) {
      throw new AppError('session_not_found', `You have no session ${sessionId}`)
    }
    this.#disconnect([sessionId])
  }

  async endOtherSessions(principal: Principal): Promise<void> {
    this.#disconnect(await sessions.deleteOtherSessions(this.#deps.db, principal.userId, principal.sessionId))
  }

  #disconnect(sessionIds: readonly number[]): void {
    for (const id of sessionIds) this.#deps.realtime.disconnectSession(id, 'signed_out')
  }
}
