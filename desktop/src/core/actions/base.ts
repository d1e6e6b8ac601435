import type { LocalDb } from '../db/local-db'

/** What every domain's actions work on: one account's store, as that account (`me`). */
export abstract class AccountActions {
  protected readonly db: LocalDb
  protected readonly me: number

  constructor(db: LocalDb, me: number) {
    this.db = db
    this.me = me
  }
}
