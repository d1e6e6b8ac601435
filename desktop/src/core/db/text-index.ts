import type { LocalDb } from './local-db'

/**
 * The full-text index is filled in bulk rather than by a trigger per row: FTS5 writes one segment
 * per transaction and keeps merging them, so indexing a synced page row by row, interleaved with
 * the inserts, costs several times more than one statement over many rows. Messages above the
 * watermark are stored and visible at once; search finds them once indexed, which for live
 * traffic is the same transaction, and for a large catch-up a moment later.
 */

/** At or below this many unindexed rows, indexing happens right away, in the writer's transaction. */
export const INDEX_AT_ONCE = 200
/** A catch-up indexes in chunks this big (FTS5 is fastest with large batches). */
export const INDEX_CHUNK = 50_000

export function textBacklog(db: LocalDb): number {
  return db
    .prepare(
      `select coalesce((select max(local_id) from messages), 0) - text_indexed_up_to from sync_state where id = 1`,
    )
    .pluck()
    .get() as number
}

/** Indexes up to `maxRows` of the next unindexed messages; returns how many remain. */
export function indexText(db: LocalDb, maxRows = INDEX_CHUNK): number {
  return db.transaction(() => {
    const from = db.prepare('select text_indexed_up_to from sync_state where id = 1').pluck().get() as number
    const last = (db.prepare('select max(local_id) from messages').pluck().get() as number | null) ?? 0
    if (last <= from) return 0
    const to = Math.min(last, from + maxRows)
    db.prepare(
      `insert into messages_fts (rowid, text) select local_id, text from messages
       where local_id > ? and local_id <= ? and text is not null`,
    ).run(from, to)
    db.prepare('update sync_state set text_indexed_up_to = ? where id = 1').run(to)
    return last - to
  })
}

/** Indexes what is waiting if that is little (live traffic, a message written here). */
export function indexTextIfSmall(db: LocalDb): void {
  if (textBacklog(db) <= INDEX_AT_ONCE) indexText(db, INDEX_AT_ONCE)
}
