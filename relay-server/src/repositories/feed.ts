import type { FeedEvent, Group, GroupMember } from '@parley/shared'
import type { Kysely } from 'kysely'
import { fixedQuery } from '../db/fixed-query'
import type { Database, FeedEventsTable } from '../db/schema'
import { AppError } from '../errors'
import { findMember, membersOf } from './groups'
import { hiddenAmong, loadMessages } from './messages'

type Db = Kysely<Database>

// Fixed statements: every socket that (re)connects reads its feed, so in a reconnect storm these
// run once per socket, and kysely's builder cost more than the queries.
const selectFeedPage = fixedQuery<
  Pick<FeedEventsTable, 'seq' | 'type' | 'message_id' | 'payload'>,
  [number, number, number]
>('select seq, type, message_id, payload from feed_events where user_id = ? and seq > ? order by seq limit ?')

const selectFeedMarks = fixedQuery<{ feed_seq: number; feed_floor: number }, [number]>(
  'select feed_seq, feed_floor from users where id = ?',
)

/**
 * Events of `userId`'s feed after `after`, in order. Message events are rebuilt from the message
 * as it is now, so an edit or a delete made since shows through (a deleted text is never replayed),
 * and those of messages the user hid are left out (their `message_hidden` comes later in the feed).
 * `cursor` is the seq of the last row read, shown or not, so paging never stalls on left-out ones.
 */
export async function readFeed(
  db: Db,
  userId: number,
  after: number,
  limit: number,
): Promise<{ events: FeedEvent[]; cursor: number; hasMore: boolean; head: number }> {
  const rows = await selectFeedPage(db, userId, after, limit + 1)
  // Read after the page, so the head is never behind the page's last seq, and so a compaction
  // that ran meanwhile is seen (its floor is written with its deletes): rows it deleted before the
  // page was read cannot go missing unnoticed.
  const [marks] = await selectFeedMarks(db, userId)
  if (!marks) throw new Error(`no user ${userId} for a feed read`)
  const { feed_seq: head, feed_floor: floor } = marks
  if (after < Number(floor)) {
    throw new AppError(
      'cursor_expired',
      `Events up to ${floor} of your feed were compacted; read GET /sync/snapshot and continue from its cursor`,
    )
  }
  const hasMore = rows.length > limit
  const page = rows.slice(0, limit)
  const messageIds = page.flatMap((r) => (r.message_id === null ? [] : [r.message_id]))
  const hidden = await hiddenAmong(db, userId, messageIds)
  const messages = await loadMessages(
    db,
    messageIds.filter((id) => !hidden.has(id)),
  )
  const events = page
    .filter((row) => row.message_id === null || !hidden.has(row.message_id))
    .map((row) => {
      const data = row.message_id === null ? JSON.parse(row.payload ?? 'null') : messages.get(row.message_id)
      return { seq: row.seq, type: row.type, data } as FeedEvent
    })
  await withMembers(db, userId, events)
  return { events, cursor: page.at(-1)?.seq ?? after, hasMore, head: Number(head) }
}

/**
 * What a feed row keeps of an event. `group_added` is kept without its member list: each of the
 * people added to a 1,000-member group would otherwise store all 1,000 members (filling 50 such
 * groups wrote 1.5 GB on SQLite); the list is read back when the feed is read.
 */
export function feedPayload(event: Pick<FeedEvent, 'type' | 'data'>): string {
  if (event.type !== 'group_added') return JSON.stringify(event.data)
  const { members: _left, ...group } = event.data as Group
  return JSON.stringify(group)
}

/**
 * Gives each `group_added` of a page the group's members as they are now, for a reader who is
 * still in the group (one who has since left gets none: `group_removed` follows in the feed). Now,
 * not then: the group's log after the event's `headSeq` replays the changes in between, and
 * applying a membership change twice changes nothing.
 */
async function withMembers(db: Db, userId: number, events: FeedEvent[]): Promise<void> {
  const lists = new Map<number, GroupMember[] | null>()
  for (const event of events) {
    if (event.type !== 'group_added') continue
    const groupId = event.data.id
    if (!lists.has(groupId)) {
      const stillIn = (await findMember(db, groupId, userId)) !== undefined
      lists.set(groupId, stillIn ? await membersOf(db, groupId) : null)
    }
    const members = lists.get(groupId)
    if (members) event.data = { ...event.data, members }
  }
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

/**
 * Deletes, for one user, up to `batch` of the oldest feed events written before `before`, and
 * raises their floor to the last seq deleted, in one transaction. Walks the primary key from the
 * oldest seq, so it needs no index on the time. Returns how many were deleted.
 */
export async function compactFeedOf(db: Db, userId: number, before: number, batch: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('feed_events')
      .select(['seq', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('seq')
      .limit(batch)
      .execute()
    // Seqs are handed out in time order: the old ones are a prefix.
    let last = 0
    for (const row of rows) {
      if (Number(row.created_at) >= before) break
      last = Number(row.seq)
    }
    if (last === 0) return 0
    await trx
      .updateTable('users')
      .set((eb) => ({
        feed_floor: eb.case().when('feed_floor', '<', last).then(last).else(eb.ref('feed_floor')).end(),
      }))
      .where('id', '=', userId)
      .execute()
    const deleted = await trx
      .deleteFrom('feed_events')
      .where('user_id', '=', userId)
      .where('seq', '<=', last)
      .executeTakeFirst()
    return Number(deleted.numDeletedRows)
  })
}
