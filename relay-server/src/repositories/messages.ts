import type { ContactStatus, Message, MessageVersion } from '@parley/shared'
import { type ExpressionBuilder, type Kysely, type RawBuilder, sql } from 'kysely'
import { fixedQuery, isPostgres } from '../db/fixed-query'
import type { Database, MessageRow, MessagesTable } from '../db/schema'
import { type MessageWithMedia, selectMessages, toMessage } from './message-rows'
import { reactionsFor, removeAllReactions } from './reactions'

type Db = Kysely<Database>

export function conversationKey(a: number, b: number): { user_low: number; user_high: number } {
  return a < b ? { user_low: a, user_high: b } : { user_low: b, user_high: a }
}

/** What a message carries besides who sent it where: the same columns for 1:1 and group messages. */
export interface MessageContent {
  text: string | null
  image_id: string | null
  file_id: string | null
  voice_duration_ms: number | null
  voice_waveform: string | null
  reply_to_id: number | null
  forwarded: number
}

/** Leaves out what `readerId` hid for themselves (POST /messages/:id/hide). */
function notHiddenFor(readerId: number) {
  return ({
    not,
    exists,
    selectFrom,
  }: ExpressionBuilder<Database & { messages: MessagesTable }, 'messages'>) =>
    not(
      exists(
        selectFrom('hidden_messages as h')
          .select('h.message_id')
          .whereRef('h.message_id', '=', 'messages.id')
          .where('h.user_id', '=', readerId),
      ),
    )
}

export async function loadMessages(db: Db, ids: readonly number[]): Promise<Map<number, Message>> {
  const result = new Map<number, Message>()
  if (ids.length === 0) return result
  const unique = [...new Set(ids)]
  const rows = await selectMessages(db).where('messages.id', 'in', unique).execute()
  const reactions = await reactionsFor(
    db,
    rows.filter((r) => r.deleted_at === null).map((r) => r.id),
  )
  for (const row of rows) result.set(row.id, toMessage(row, reactions.get(row.id) ?? []))
  return result
}

export async function loadMessage(db: Db, id: number): Promise<Message | undefined> {
  return (await loadMessages(db, [id])).get(id)
}

export async function findMessageRow(db: Db, id: number): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst()
}

/**
 * SQL: whether a message (not deleted) that `userId` can see carries `id` in `column`: one they sent
 * or received in 1:1 (unless withheld from them), or one of a group they are in, sent since they
 * joined. What pictures and files are open to follows from it.
 */
export function carriedByVisibleMessage(
  column: 'image_id' | 'file_id',
  id: string,
  userId: number,
): RawBuilder<unknown> {
  const carried = sql.ref(`m.${column}`)
  return sql`(
    exists (
      select 1 from messages m
      where ${carried} = ${id} and m.deleted_at is null and m.group_id is null
        and (m.sender_id = ${userId} or (m.recipient_id = ${userId} and m.withheld = 0))
    )
    or exists (
      select 1 from messages m
      join group_members gm on gm.group_id = m.group_id and gm.user_id = ${userId}
      where ${carried} = ${id} and m.deleted_at is null and m.group_seq >= gm.joined_seq
    )
  )`
}

/**
 * Whether `userId` may see a 1:1 message: its sender, or its recipient unless it was withheld from
 * them. (Group messages are a matter of membership: see GroupService.)
 */
export function isVisibleTo(row: MessageRow, userId: number): boolean {
  if (row.group_id !== null) return false
  return row.sender_id === userId || (row.recipient_id === userId && row.withheld === 0)
}

const selectByClientId = fixedQuery<MessageRow, [number, string]>(
  'select * from messages where sender_id = ? and client_id = ?',
)

export async function findByClientId(
  db: Db,
  senderId: number,
  clientId: string,
): Promise<MessageRow | undefined> {
  return (await selectByClientId(db, senderId, clientId))[0]
}

const insertMessageRow = fixedQuery<
  MessageRow,
  [
    number,
    number,
    number,
    number,
    string,
    string | null,
    string | null,
    string | null,
    number | null,
    string | null,
    number | null,
    number,
    number,
    number,
  ]
>(
  `insert into messages (sender_id, recipient_id, user_low, user_high, client_id, text, image_id, file_id,
     voice_duration_ms, voice_waveform, reply_to_id, forwarded, created_at, withheld)
   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
)

export async function insertMessage(
  db: Db,
  message: MessageContent & {
    sender_id: number
    recipient_id: number
    client_id: string
    created_at: number
    withheld: boolean
  },
): Promise<MessageRow> {
  const { user_low, user_high } = conversationKey(message.sender_id, message.recipient_id)
  const [row] = await insertMessageRow(
    db,
    message.sender_id,
    message.recipient_id,
    user_low,
    user_high,
    message.client_id,
    message.text,
    message.image_id,
    message.file_id,
    message.voice_duration_ms,
    message.voice_waveform,
    message.reply_to_id,
    message.forwarded,
    message.created_at,
    message.withheld ? 1 : 0,
  )
  if (!row) throw new Error('insert into messages returned no row')
  return row
}

/** What a 1:1 send must know before it writes: whether its clientId was used, and both contact entries. */
export interface SendCheck {
  existingId: number | null
  senders: ContactStatus | null
  recipients: ContactStatus | null
}

const selectSendChecks = fixedQuery<
  {
    ord: number
    existing_id: number | null
    senders: ContactStatus | null
    recipients: ContactStatus | null
  },
  [number[], number[], string[]]
>(
  `select w.ord, m.id as existing_id, mine.status as senders, theirs.status as recipients
   from unnest(?::bigint[], ?::bigint[], ?::text[]) with ordinality as w(sender_id, recipient_id, client_id, ord)
   left join messages m on m.sender_id = w.sender_id and m.client_id = w.client_id
   left join contacts mine on mine.owner_id = w.sender_id and mine.peer_id = w.recipient_id
   left join contacts theirs on theirs.owner_id = w.recipient_id and theirs.peer_id = w.sender_id`,
)

/** SQLite: the same, the sends given as one JSON array of [sender, recipient, clientId]. */
const selectSendChecksSqlite = fixedQuery<
  {
    ord: number
    existing_id: number | null
    senders: ContactStatus | null
    recipients: ContactStatus | null
  },
  [string]
>(
  `select w.key + 1 as ord, m.id as existing_id, mine.status as senders, theirs.status as recipients
   from json_each(?) w
   left join messages m on m.sender_id = w.value ->> 0 and m.client_id = w.value ->> 2
   left join contacts mine on mine.owner_id = w.value ->> 0 and mine.peer_id = w.value ->> 1
   left join contacts theirs on theirs.owner_id = w.value ->> 1 and theirs.peer_id = w.value ->> 0`,
)

/** findByClientId and deliveryOf for many 1:1 sends in one statement, in the order given. */
export async function sendChecks(
  db: Db,
  sends: readonly { senderId: number; recipientId: number; clientId: string }[],
): Promise<SendCheck[]> {
  const rows = isPostgres(db)
    ? await selectSendChecks(
        db,
        sends.map((s) => s.senderId),
        sends.map((s) => s.recipientId),
        sends.map((s) => s.clientId),
      )
    : await selectSendChecksSqlite(
        db,
        JSON.stringify(sends.map((s) => [s.senderId, s.recipientId, s.clientId])),
      )
  const checks: SendCheck[] = []
  for (const row of rows) {
    checks[Number(row.ord) - 1] = {
      existingId: row.existing_id === null ? null : Number(row.existing_id),
      senders: row.senders,
      recipients: row.recipients,
    }
  }
  return checks
}

const insertTextMessageRows = fixedQuery<
  MessageRow,
  [number[], number[], number[], number[], string[], string[], number[], number[]]
>(
  `insert into messages (sender_id, recipient_id, user_low, user_high, client_id, text, created_at, withheld)
   select sender_id, recipient_id, user_low, user_high, client_id, text, created_at, withheld
   from unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::int[])
     with ordinality as w(sender_id, recipient_id, user_low, user_high, client_id, text, created_at, withheld, ord)
   order by ord
   returning *`,
)

/** SQLite: the same, the rows given as one JSON array, inserted in its order. */
const insertTextMessageRowsSqlite = fixedQuery<MessageRow, [string]>(
  `insert into messages (sender_id, recipient_id, user_low, user_high, client_id, text, created_at, withheld)
   select value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7
   from json_each(?) where true
   order by key
   returning *`,
)

/**
 * Many 1:1 text messages in one statement, given ids in the order given (each conversation's
 * order is kept). Returns the rows in that order.
 */
export async function insertTextMessages(
  db: Db,
  created: number,
  sends: readonly {
    senderId: number
    recipientId: number
    clientId: string
    text: string
    withheld: boolean
  }[],
): Promise<MessageRow[]> {
  if (sends.length === 0) return []
  const keys = sends.map((s) => conversationKey(s.senderId, s.recipientId))
  if (!isPostgres(db)) {
    const rows = await insertTextMessageRowsSqlite(
      db,
      JSON.stringify(
        sends.map((s, i) => [
          s.senderId,
          s.recipientId,
          keys[i]!.user_low,
          keys[i]!.user_high,
          s.clientId,
          s.text,
          created,
          s.withheld ? 1 : 0,
        ]),
      ),
    )
    return inSendOrder(sends, rows)
  }
  const rows = await insertTextMessageRows(
    db,
    sends.map((s) => s.senderId),
    sends.map((s) => s.recipientId),
    keys.map((k) => k.user_low),
    keys.map((k) => k.user_high),
    sends.map((s) => s.clientId),
    sends.map((s) => s.text),
    sends.map(() => created),
    sends.map((s) => (s.withheld ? 1 : 0)),
  )
  return inSendOrder(sends, rows)
}

function inSendOrder(
  sends: readonly { senderId: number; clientId: string }[],
  rows: MessageRow[],
): MessageRow[] {
  const byKey = new Map(rows.map((r) => [`${r.sender_id}:${r.client_id}`, r]))
  return sends.map((s) => {
    const row = byKey.get(`${s.senderId}:${s.clientId}`)
    if (!row) throw new Error('insert into messages returned no row for a send')
    return row
  })
}

export async function insertGroupMessage(
  db: Db,
  message: MessageContent & {
    sender_id: number
    group_id: number
    group_seq: number
    client_id: string
    created_at: number
  },
): Promise<MessageRow> {
  return db.insertInto('messages').values(message).returningAll().executeTakeFirstOrThrow()
}

/** Newest first from `before` (exclusive), `limit` of them, with their reactions and whether older ones exist. */
async function pageOf(
  db: Db,
  query: ReturnType<typeof selectMessages>,
  before: number | undefined,
  limit: number,
): Promise<{ messages: Message[]; hasMore: boolean }> {
  const rows = await (before === undefined ? query : query.where('messages.id', '<', before))
    .orderBy('messages.id', 'desc')
    .limit(limit + 1)
    .execute()
  const hasMore = rows.length > limit
  const page = rows.slice(0, limit)
  const reactions = await reactionsFor(
    db,
    page.filter((r) => r.deleted_at === null).map((r) => r.id),
  )
  return { messages: page.map((r) => toMessage(r, reactions.get(r.id) ?? [])), hasMore }
}

/**
 * A page of a group's messages sent since `sinceSeq` (when the reader joined), newest first,
 * without those the reader hid.
 */
export async function groupPage(
  db: Db,
  groupId: number,
  reader: { userId: number; sinceSeq: number },
  before: number | undefined,
  limit: number,
): Promise<{ messages: Message[]; hasMore: boolean }> {
  const query = selectMessages(db)
    .where('messages.group_id', '=', groupId)
    .where('messages.group_seq', '>=', reader.sinceSeq)
    .where(notHiddenFor(reader.userId))
  return pageOf(db, query, before, limit)
}

/**
 * A page of the conversation between `a` and `b` as `a` sees it (without what was withheld from
 * `a` or what `a` hid), newest first, plus whether older ones exist.
 */
export async function conversationPage(
  db: Db,
  a: number,
  b: number,
  before: number | undefined,
  limit: number,
): Promise<{ messages: Message[]; hasMore: boolean }> {
  const key = conversationKey(a, b)
  const query = selectMessages(db)
    .where('messages.user_low', '=', key.user_low)
    .where('messages.user_high', '=', key.user_high)
    .where((eb) => eb.or([eb('messages.withheld', '=', 0), eb('messages.sender_id', '=', a)]))
    .where(notHiddenFor(a))
  return pageOf(db, query, before, limit)
}

/** Replaces the text, keeping the one it replaces as a version (the history shows it). */
export async function editMessage(db: Db, row: MessageRow, text: string, now: number): Promise<void> {
  await db
    .insertInto('message_versions')
    .values({
      message_id: row.id,
      text: row.text ?? '',
      written_at: row.edited_at ?? row.created_at,
      replaced_at: now,
    })
    .execute()
  await db.updateTable('messages').set({ text, edited_at: now }).where('id', '=', row.id).execute()
}

/** What a tombstone keeps of a message's content: nothing. */
const EMPTIED = { text: null, image_id: null, file_id: null, voice_duration_ms: null, voice_waveform: null }

/** Leaves a tombstone: the text, its history, its reactions, its image and its file go. */
export async function tombstoneMessage(db: Db, id: number, now: number): Promise<void> {
  await db.deleteFrom('message_versions').where('message_id', '=', id).execute()
  await removeAllReactions(db, id)
  await db
    .updateTable('messages')
    .set({ ...EMPTIED, deleted_at: now })
    .where('id', '=', id)
    .execute()
}

/** tombstoneMessage for many messages at once (three statements, not three per message). */
export async function tombstoneMessages(db: Db, ids: readonly number[], now: number): Promise<void> {
  if (ids.length === 0) return
  await db.deleteFrom('message_versions').where('message_id', 'in', ids).execute()
  await db.deleteFrom('reactions').where('message_id', 'in', ids).execute()
  await db
    .updateTable('messages')
    .set({ ...EMPTIED, deleted_at: now })
    .where('id', 'in', ids)
    .execute()
}

/** Hides a message for `userId`; false when it was hidden already. */
export async function hideMessage(db: Db, userId: number, messageId: number, now: number): Promise<boolean> {
  const inserted = await db
    .insertInto('hidden_messages')
    .values({ user_id: userId, message_id: messageId, hidden_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'message_id']).doNothing())
    .returning('message_id')
    .executeTakeFirst()
  return inserted !== undefined
}

/** Of these messages, the ones `userId` hid. */
export async function hiddenAmong(db: Db, userId: number, ids: readonly number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set()
  const rows = await db
    .selectFrom('hidden_messages')
    .select('message_id')
    .where('user_id', '=', userId)
    .where('message_id', 'in', [...new Set(ids)])
    .execute()
  return new Set(rows.map((r) => Number(r.message_id)))
}

export async function messageVersions(db: Db, messageId: number): Promise<MessageVersion[]> {
  const rows = await db
    .selectFrom('message_versions')
    .select(['text', 'written_at', 'replaced_at'])
    .where('message_id', '=', messageId)
    .orderBy('id')
    .execute()
  return rows.map((r) => ({ text: r.text, writtenAt: r.written_at, replacedAt: r.replaced_at }))
}

/** Whether `messageId` belongs to the conversation between `a` and `b`, as `a` sees it. */
export async function isInConversation(db: Db, messageId: number, a: number, b: number): Promise<boolean> {
  const key = conversationKey(a, b)
  const row = await db
    .selectFrom('messages')
    .select('id')
    .where('id', '=', messageId)
    .where('user_low', '=', key.user_low)
    .where('user_high', '=', key.user_high)
    .where((eb) => eb.or([eb('withheld', '=', 0), eb('sender_id', '=', a)]))
    .executeTakeFirst()
  return row !== undefined
}

/**
 * Up to `limit` messages of the conversation between `a` and `b` as `a` sees it, oldest first,
 * after the message `afterId` (an export walks a conversation this way, page by page).
 */
export async function conversationAfter(
  db: Db,
  a: number,
  b: number,
  afterId: number,
  limit: number,
): Promise<Message[]> {
  const key = conversationKey(a, b)
  const query = selectMessages(db)
    .where('messages.user_low', '=', key.user_low)
    .where('messages.user_high', '=', key.user_high)
    .where((eb) => eb.or([eb('messages.withheld', '=', 0), eb('messages.sender_id', '=', a)]))
    .where(notHiddenFor(a))
  return oldestAfter(db, query, afterId, limit)
}

/**
 * Up to `limit` of a group's messages sent since `sinceSeq` (when the reader joined), oldest
 * first, after the message `afterId` (an export walks a group this way, page by page).
 */
export async function groupAfter(
  db: Db,
  groupId: number,
  reader: { userId: number; sinceSeq: number },
  afterId: number,
  limit: number,
): Promise<Message[]> {
  const query = selectMessages(db)
    .where('messages.group_id', '=', groupId)
    .where('messages.group_seq', '>=', reader.sinceSeq)
    .where(notHiddenFor(reader.userId))
  return oldestAfter(db, query, afterId, limit)
}

async function oldestAfter(
  db: Db,
  query: ReturnType<typeof selectMessages>,
  afterId: number,
  limit: number,
): Promise<Message[]> {
  const rows = await query.where('messages.id', '>', afterId).orderBy('messages.id').limit(limit).execute()
  return withReactions(db, rows)
}

/** Who sent a group's messages since `sinceSeq`, and the pictures on those not deleted. */
export async function groupSendersAndPictures(
  db: Db,
  groupId: number,
  sinceSeq: number,
): Promise<{ senderIds: number[]; imageIds: string[] }> {
  const since = db.selectFrom('messages').where('group_id', '=', groupId).where('group_seq', '>=', sinceSeq)
  const senders = await since.select('sender_id').distinct().execute()
  const pictures = await since
    .select('image_id')
    .distinct()
    .where('image_id', 'is not', null)
    .where('deleted_at', 'is', null)
    .execute()
  return {
    senderIds: senders.map((r) => r.sender_id),
    imageIds: pictures.flatMap((r) => (r.image_id === null ? [] : [r.image_id])),
  }
}

async function withReactions(db: Db, rows: MessageWithMedia[]): Promise<Message[]> {
  const reactions = await reactionsFor(
    db,
    rows.filter((r) => r.deleted_at === null).map((r) => r.id),
  )
  return rows.map((r) => toMessage(r, reactions.get(r.id) ?? []))
}

/** Everyone `userId` has a conversation with (a message either way that `userId` can see). */
export async function conversationPeers(db: Db, userId: number): Promise<number[]> {
  const sent = await db
    .selectFrom('messages')
    .select('recipient_id as peer')
    .distinct()
    .where('sender_id', '=', userId)
    .where('recipient_id', 'is not', null)
    .execute()
  const received = await db
    .selectFrom('messages')
    .select('sender_id as peer')
    .distinct()
    .where('recipient_id', '=', userId)
    .where('withheld', '=', 0)
    .execute()
  const peers = [...sent, ...received].flatMap((r) => (r.peer === null ? [] : [r.peer]))
  return [...new Set(peers)].sort((x, y) => x - y)
}

/** Pictures on messages (not deleted) that `userId` sent or can see. */
export async function conversationImageIds(db: Db, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('messages')
    .select('image_id')
    .distinct()
    .where('image_id', 'is not', null)
    .where('deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('sender_id', '=', userId),
        eb.and([eb('recipient_id', '=', userId), eb('withheld', '=', 0)]),
      ]),
    )
    .execute()
  return rows.flatMap((r) => (r.image_id === null ? [] : [r.image_id]))
}
