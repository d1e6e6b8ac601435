import type { FeedEvent } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { loadMessages } from './messages'

type Db = Kysely<Database>

/**
 * Events of `userId`'s feed after `after`, in order. Message events are rebuilt from the message
 * as it is now, so an edit or a delete made since shows through (a deleted text is never replayed).
 */
export async function readFeed(
  db: Db,
  userId: number,
  after: number,
  limit: number,
): Promise<{ events: FeedEvent[]; hasMore: boolean; head: number }> {
  const rows = await db
    .selectFrom('feed_events')
    .select(['seq', 'type', 'message_id', 'payload'])
    .where('user_id', '=', userId)
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit + 1)
    .execute()
  // Read after the page, so the head is never behind the page's last seq.
  const { feed_seq: head } = await db
    .selectFrom('users')
    .select('feed_seq')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow()
  const hasMore = rows.length > limit
  const page = rows.slice(0, limit)
  const messages = await loadMessages(
    db,
    page.flatMap((r) => (r.message_id === null ? [] : [r.message_id])),
  )
  const events = page.map((row) => {
    const data = row.message_id === null ? JSON.parse(row.payload ?? 'null') : messages.get(row.message_id)
    return { seq: row.seq, type: row.type, data } as FeedEvent
  })
  return { events, hasMore, head: Number(head) }
}

/** The seq of the `message` event a send wrote to the sender's feed (for idempotent resends). */
export async function sendSeqOf(db: Db, userId: number, messageId: number): Promise<number | undefined> {
  const row = await db
    .selectFrom('feed_events')
    .select('seq')
    .where('message_id', '=', messageId)
    .where('user_id', '=', userId)
    .where('type', '=', 'message')
    .executeTakeFirst()
  return row?.seq
}
