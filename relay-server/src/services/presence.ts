import type { Presence, StatusChangeEvent } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { mutualContactIdsOf } from '../repositories/contacts'
import { findUsersByIds, setLastSeen } from '../repositories/users'
import type { Committer } from './committer'
import type { Realtime } from './realtime'

/** Users whose presence is published per batch (the `in (…)` lists stay short). */
export const PUBLISH_CHUNK = 250

interface Waiter {
  resolve(event: StatusChangeEvent): void
  reject(error: unknown): void
}

/**
 * A user is online while any of their sockets (on any relay) is online, away when all connected
 * ones are away, offline with a last-seen time when none is left. Only mutual contacts hear it.
 */
export class PresenceService {
  readonly #db: Kysely<Database>
  readonly #realtime: Realtime
  readonly #clock: () => number

  readonly #committer: Committer
  readonly #dirty = new Map<number, Waiter[]>()
  #draining = false

  constructor(deps: {
    db: Kysely<Database>
    committer: Committer
    realtime: Realtime
    clock?: () => number
  }) {
    this.#db = deps.db
    this.#committer = deps.committer
    this.#realtime = deps.realtime
    this.#clock = deps.clock ?? Date.now
  }

  /** Current presence of each user in `userIds` (callers pass only mutual contacts). */
  async presenceOf(userIds: readonly number[]): Promise<Map<number, Presence>> {
    const result = new Map<number, Presence>()
    if (userIds.length === 0) return result
    const live = await this.#realtime.liveStatuses(userIds)
    const offline = userIds.filter((id) => !live.has(id))
    for (const [id, status] of live) result.set(id, { status, lastSeen: null })
    for (const row of await findUsersByIds(this.#db, offline)) {
      result.set(row.id, { status: 'offline', lastSeen: row.last_seen_at })
    }
    return result
  }

  /**
   * Re-derives the user's status from their sockets and tells their mutual contacts; resolves
   * with what was told. Calls are gathered and handled PUBLISH_CHUNK users at a time, yielding to
   * the event loop between chunks: a storm of 10,000 disconnects becomes a few dozen queries and
   * `last_seen_at` writes of many users each, instead of 10,000 of each in one unbroken run (with
   * SQLite every query completes at once, so awaiting them alone would never let sockets in).
   */
  publish(userId: number): Promise<StatusChangeEvent> {
    return new Promise((resolve, reject) => {
      const waiting = this.#dirty.get(userId)
      if (waiting) waiting.push({ resolve, reject })
      else this.#dirty.set(userId, [{ resolve, reject }])
      if (!this.#draining) {
        this.#draining = true
        setImmediate(() => void this.#drain())
      }
    })
  }

  async #drain(): Promise<void> {
    while (this.#dirty.size > 0) {
      const chunk = [...this.#dirty.keys()].slice(0, PUBLISH_CHUNK)
      const waiters = chunk.map((id) => {
        const list = this.#dirty.get(id) ?? []
        this.#dirty.delete(id)
        return list
      })
      try {
        const events = await this.#publishMany(chunk)
        chunk.forEach((id, i) => {
          for (const w of waiters[i] ?? []) w.resolve(events.get(id)!)
        })
      } catch (error) {
        for (const list of waiters) for (const w of list) w.reject(error)
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    this.#draining = false
  }

  async #publishMany(userIds: number[]): Promise<Map<number, StatusChangeEvent>> {
    const live = await this.#realtime.liveStatuses(userIds)
    const offline = userIds.filter((id) => !live.has(id))
    const lastSeen = this.#clock()
    // One write for every user of the chunk who went offline, through the committer.
    if (offline.length > 0) await this.#committer.run(({ trx }) => setLastSeen(trx, offline, lastSeen))
    const contacts = await mutualContactIdsOf(this.#db, userIds)
    const events = new Map<number, StatusChangeEvent>()
    for (const userId of userIds) {
      const status = live.get(userId)
      const event: StatusChangeEvent = status
        ? { userId, status, lastSeen: null }
        : { userId, status: 'offline', lastSeen }
      events.set(userId, event)
      const to = contacts.get(userId)
      if (to) this.#realtime.toUsers(to, 'user_status_change', event)
    }
    return events
  }

  /** After two users become mutual contacts, each learns the other's presence at once. */
  async introduce(a: number, b: number): Promise<void> {
    const presence = await this.presenceOf([a, b])
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      const p = presence.get(from)
      if (p) this.#realtime.toUsers([to], 'user_status_change', { userId: from, ...p })
    }
  }

  /** Someone who may no longer see `userId`'s presence is told to forget it. */
  hideFrom(userId: number, viewerId: number): void {
    this.#realtime.toUsers([viewerId], 'user_status_change', { userId, status: 'offline', lastSeen: null })
  }
}
