import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import type { AuthService, Principal } from './auth'
import type { Committer } from './committer'
import { type EraseSummary, eraseAccount, releaseErasedUsernames, unfinishedErasures } from './erase'
import type { FileService } from './files'
import type { GroupService } from './groups'
import type { ImageService } from './images'
import type { Realtime } from './realtime'

export interface AccountServiceDeps {
  db: Kysely<Database>
  committer: Committer
  images: ImageService
  files: FileService
  auth: AuthService
  realtime: Realtime
  groups: GroupService
  /** How long an erased account's username stays reserved before others may register it. */
  erasedUsernameGraceMs: number
  clock?: () => number
}

/** A user's whole account: erasing it, and (export.ts) taking a copy of it. */
export class AccountService {
  readonly #deps: AccountServiceDeps
  readonly #clock: () => number

  constructor(deps: AccountServiceDeps) {
    this.#deps = deps
    this.#clock = deps.clock ?? Date.now
  }

  /** `DELETE /users/me`: the password again, then the erasure (see erase.ts). */
  async eraseOwn(principal: Principal, password: string): Promise<EraseSummary> {
    await this.#deps.auth.confirmPassword(principal, password)
    return this.erase(principal.userId)
  }

  erase(userId: number): Promise<EraseSummary> {
    const { db, committer, images, files, realtime, groups } = this.#deps
    return eraseAccount(
      {
        db,
        committer,
        images,
        files,
        groups,
        onSessionsEnded: (ids) => {
          for (const id of ids) realtime.disconnectSession(id, 'signed_out')
        },
      },
      userId,
    )
  }

  /**
   * Periodic upkeep: finishes erasures a stopped relay left half done, and releases the usernames
   * of accounts erased longer ago than the grace period. Returns how many of each.
   */
  async maintain(): Promise<{ resumed: number; released: number }> {
    const { db, erasedUsernameGraceMs } = this.#deps
    const unfinished = await unfinishedErasures(db)
    for (const userId of unfinished) await this.erase(userId)
    const released = await releaseErasedUsernames(db, this.#clock(), erasedUsernameGraceMs)
    return { resumed: unfinished.length, released }
  }
}
