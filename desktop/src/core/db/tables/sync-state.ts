import type { LocalDb } from '../local-db'

// The `sync_state` table's cursor: the highest feed seq applied (its row is made by the first
// migration; text-index.ts keeps the full-text watermark in the same row).

export function cursorOf(db: LocalDb): number {
  return db.prepare('select cursor from sync_state where id = 1').pluck().get() as number
}

export function setCursor(db: LocalDb, cursor: number): void {
  db.prepare('update sync_state set cursor = ? where id = 1').run(cursor)
}
