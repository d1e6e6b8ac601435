import type { DraftView } from '@parley/shared'
import type { LocalDb } from '../local-db'

// The `drafts` table: what is typed but not sent, per conversation.

export function draftOf(db: LocalDb, peerId: number): DraftView | null {
  const row = db.get(
    db.kysely.selectFrom('drafts').select(['text', 'updated_at']).where('peer_id', '=', peerId),
  )
  return row ? { text: row.text, updatedAt: row.updated_at } : null
}

/** An empty text removes the draft. */
export function setDraft(db: LocalDb, peerId: number, text: string, now: number): void {
  if (text === '') {
    db.run(db.kysely.deleteFrom('drafts').where('peer_id', '=', peerId))
    return
  }
  db.prepare(
    `insert into drafts (peer_id, text, updated_at) values ($peerId, $text, $now)
     on conflict (peer_id) do update set text = excluded.text, updated_at = excluded.updated_at`,
  ).run({ peerId, text, now })
}
