import type { ConversationKey, DraftView } from '@parley/shared'
import type { LocalDb } from '../local-db'

// The `drafts` table: what is typed but not sent, per conversation.

export function draftOf(db: LocalDb, conversation: ConversationKey): DraftView | null {
  const row = db.get(
    db.kysely.selectFrom('drafts').select(['text', 'updated_at']).where('conversation', '=', conversation),
  )
  return row ? { text: row.text, updatedAt: row.updated_at } : null
}

/** An empty text removes the draft. */
export function setDraft(db: LocalDb, conversation: ConversationKey, text: string, now: number): void {
  if (text === '') {
    db.run(db.kysely.deleteFrom('drafts').where('conversation', '=', conversation))
    return
  }
  db.prepare(
    `insert into drafts (conversation, text, updated_at) values ($conversation, $text, $now)
     on conflict (conversation) do update set text = excluded.text, updated_at = excluded.updated_at`,
  ).run({ conversation, text, now })
}
