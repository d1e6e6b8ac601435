import type { Presence, StatusChangeEvent } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { mutualContactIds } from '../repositories/contacts'
import { findUsersByIds, setLastSeen } from '../repositories/users'
import type { Committer } from './committer'
import type { Realtime } from './realtime'

/**
 * A user is online while any of their sockets (on any relay) is online, away when all connected
 * ones are away, offline with a last-seen time when none is left. Only mutual contacts hear it.
 */
export class PresenceService {
  readonly #db: Kysely<Database>
  readonly #realtime: Realtime
  readonly #clock: () => number

  readonly #committer: Committer

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

  /** Re-derives the user's status from their sockets and tells their mutual contacts. */
  async publish(userId: number): Promise<StatusChangeEvent> {
    const presence = (await this.presenceOf([userId])).get(userId)
    let event: StatusChangeEvent
    if (presence && presence.status !== 'offline') {
      event = { userId, status: presence.status, lastSeen: null }
    } else {
      const lastSeen = this.#clock()
      // Through the committer, so a burst of disconnects shares transactions.
      await this.#committer.run(({ trx }) => setLastSeen(trx, userId, lastSeen))
      event = { userId, status: 'offline', lastSeen }
    }
    const contacts = await mutualContactIds(this.#db, userId)
    if (contacts.length > 0) this.#realtime.toUsers(contacts, 'user_status_change', event)
    return event
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
