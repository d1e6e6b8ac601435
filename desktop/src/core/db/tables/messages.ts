import type { ConversationKey, FileInfo, Message } from '@parley/shared'
import { conversationId, conversationIdSql } from '../conversation-id'
import type { LocalDb } from '../local-db'
import type { MessageRow } from '../schema'

// The `messages` table: the relay's messages and the ones written here, by local id (kept from the
// optimistic write to the relay's copy).
// The feed's two statements bind by position (see RELAY_COLUMNS): a relay message's columns are
// built once, in one order that both statements take.

/** A message by local id, hidden ones too (the outbox still needs them). */
export function messageRow(db: LocalDb, localId: number): MessageRow | undefined {
  return db.get(db.kysely.selectFrom('messages').selectAll().where('local_id', '=', localId))
}

export function messageRowByServerId(db: LocalDb, serverId: number): MessageRow | undefined {
  return db.get(db.kysely.selectFrom('messages').selectAll().where('server_id', '=', serverId))
}

/** Shown rows by local id, in no particular order (hidden ones are as good as gone). */
export function messageRowsByLocalIds(db: LocalDb, localIds: readonly number[]): MessageRow[] {
  return db
    .prepare('select * from messages where local_id in (select value from json_each(?)) and hidden = 0')
    .all(JSON.stringify(localIds)) as MessageRow[]
}

/** Shown replies to these messages (by local id): their quotes show what the originals are now. */
export function replyRowsTo(db: LocalDb, localIds: readonly number[]): MessageRow[] {
  return db
    .prepare(
      `select r.* from messages o join messages r on r.reply_to_id = o.server_id
       where o.local_id in (select value from json_each(?)) and r.hidden = 0
         and r.conversation_id = o.conversation_id`,
    )
    .all(JSON.stringify(localIds)) as MessageRow[]
}

/** Hides a message for this account (delete for me); the local ids it hid (none when already hidden). */
export function hideRows(db: LocalDb, where: { serverId: number } | { localId: number }): MessageRow[] {
  const [column, value] = 'serverId' in where ? ['server_id', where.serverId] : ['local_id', where.localId]
  return db
    .prepare(`update messages set hidden = 1 where ${column} = ? and hidden = 0 returning *`)
    .all(value) as MessageRow[]
}

/** The message of yours that a clientId wrote, sent or not. */
export function ownMessageByClientId(db: LocalDb, me: number, clientId: string): MessageRow | undefined {
  return db.get(
    db.kysely
      .selectFrom('messages')
      .selectAll()
      .where('client_id', '=', clientId)
      .where('sender_id', '=', me),
  )
}

/** A picture of a message: the relay's, or (`local`) this device's bytes not uploaded yet. */
export interface ImageFields {
  id: string
  width: number | null
  height: number | null
  mime: string
  bytes: number
}

export function imageParams(image: ImageFields | null | undefined) {
  return {
    imageId: image?.id ?? null,
    imageWidth: image?.width ?? null,
    imageHeight: image?.height ?? null,
    imageMime: image?.mime ?? null,
    imageBytes: image?.bytes ?? null,
  }
}

// The feed's two statements bind by position: they run once per message of a catch-up, and binding
// sixteen values by name costs better-sqlite3 about a third more per statement than by position
// (measured). So the columns both write come first, in this one order, built once per message
// (`relayMessageParams`), and each statement adds its own after them.
const RELAY_COLUMNS = `server_id, text, created_at, edited_at, deleted_at, reactions, image_id, image_width,
  image_height, image_mime, image_bytes, reply_to_id, forwarded, file, voice`

/** A relay message's columns, built once per feed event for whichever statement below it takes. */
export function relayMessageParams(m: Message, me: number, conversationId: number) {
  // Optional chaining: a relay older than images sends no `image` at all.
  const image = m.image ?? null
  return {
    /** In the order of RELAY_COLUMNS. */
    columns: [
      m.id,
      m.text,
      m.createdAt,
      m.editedAt,
      m.deletedAt,
      JSON.stringify(m.reactions),
      image?.id ?? null,
      image?.width ?? null,
      image?.height ?? null,
      image?.mime ?? null,
      image?.bytes ?? null,
      // A relay older than replies, files and voice messages sends none of these.
      m.replyToId ?? null,
      m.forwarded ? 1 : 0,
      m.file ? JSON.stringify(m.file) : null,
      m.voice ? JSON.stringify(m.voice) : null,
    ],
    me,
    clientId: m.clientId,
    senderId: m.senderId,
    recipientId: m.recipientId,
    conversationId,
  }
}
type RelayMessageParams = ReturnType<typeof relayMessageParams>

// A message this device wrote and is waiting for: the feed gives it its relay id (matched by
// sender and clientId, through the small index of pending messages).
const LINK_PENDING = `
  update messages set (${RELAY_COLUMNS}) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),
    send_state = 'sent', failure_code = null, failure_message = null, image_local = 0, file_local = 0
  where sender_id = ? /* me */ and client_id = ? /* clientId */ and server_id is null
  returning local_id`

/** The local id of the pending message this relay message is, if it is one. */
export function linkPending(db: LocalDb, p: RelayMessageParams): number | undefined {
  return db
    .prepare(LINK_PENDING)
    .pluck()
    .get(...p.columns, p.me, p.clientId) as number | undefined
}

// Every other message event is an upsert by relay id.
const UPSERT_MESSAGE = `
  insert into messages (${RELAY_COLUMNS}, client_id, sender_id, recipient_id, conversation_id, send_state)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent')
  on conflict (server_id) do update set text = excluded.text, edited_at = excluded.edited_at,
    deleted_at = excluded.deleted_at, reactions = excluded.reactions, image_id = excluded.image_id,
    image_width = excluded.image_width, image_height = excluded.image_height,
    image_mime = excluded.image_mime, image_bytes = excluded.image_bytes, image_local = 0,
    reply_to_id = excluded.reply_to_id, forwarded = excluded.forwarded, file = excluded.file,
    voice = excluded.voice, file_local = 0
  returning local_id`

export function upsertRelayMessage(db: LocalDb, p: RelayMessageParams): number {
  return db
    .prepare(UPSERT_MESSAGE)
    .pluck()
    .get(...p.columns, p.clientId, p.senderId, p.recipientId, p.conversationId) as number
}

export function maxLocalId(db: LocalDb): number {
  return db.prepare('select coalesce(max(local_id), 0) from messages').pluck().get() as number
}

/** A message's picture reached the relay: it now carries the relay's image instead of the local one. */
export function setUploadedImage(db: LocalDb, localId: number, image: ImageFields): void {
  db.prepare(
    `update messages set image_id = $imageId, image_width = $imageWidth, image_height = $imageHeight,
       image_mime = $imageMime, image_bytes = $imageBytes, image_local = 0
     where local_id = $localId and image_local = 1`,
  ).run({ localId, ...imageParams(image) })
}

/** A message's file reached the relay: it now carries the relay's file instead of the local copy. */
export function setUploadedFile(db: LocalDb, localId: number, file: FileInfo): void {
  db.prepare('update messages set file = ?, file_local = 0 where local_id = ? and file_local = 1').run(
    JSON.stringify(file),
    localId,
  )
}

/** A voice message was played on this device; false when it was already marked played. */
export function markVoicePlayed(db: LocalDb, localId: number): boolean {
  return (
    db.prepare('update messages set voice_played = 1 where local_id = ? and voice_played = 0').run(localId)
      .changes > 0
  )
}

export function setText(db: LocalDb, localId: number, text: string): void {
  db.prepare('update messages set text = ? where local_id = ?').run(text, localId)
}

export function deleteMessageRow(db: LocalDb, localId: number): void {
  db.prepare('delete from messages where local_id = ?').run(localId)
}

/** The relay accepted a pending message (its ack): its id and time, unless the feed linked it first. */
export function markSent(db: LocalDb, localId: number, message: { id: number; createdAt: number }): void {
  const taken = db.prepare('select local_id from messages where server_id = ?').pluck().get(message.id)
  if (taken !== undefined) return
  db.prepare(
    `update messages set server_id = $id, created_at = $createdAt, send_state = 'sent', failure_code = null,
       failure_message = null where local_id = $localId and server_id is null`,
  ).run({ id: message.id, createdAt: message.createdAt, localId })
}

export function markFailed(db: LocalDb, localId: number, error: { code: string; message: string }): void {
  db.prepare(
    `update messages set send_state = 'failed', failure_code = $code, failure_message = $message
     where local_id = $localId`,
  ).run({ localId, code: error.code, message: error.message })
}

/** A failed message is pending again (a retry). */
export function markPendingAgain(db: LocalDb, localId: number): void {
  db.prepare(
    `update messages set send_state = 'pending', failure_code = null, failure_message = null
     where local_id = ? and send_state = 'failed'`,
  ).run(localId)
}

/** The newest message of a conversation. */
export function lastMessageRow(db: LocalDb, conversation: ConversationKey): MessageRow | undefined {
  return db.get(newest(db, conversation))
}

/** The newest live message someone else sent in a conversation. */
export function lastReceivedRow(
  db: LocalDb,
  me: number,
  conversation: ConversationKey,
): MessageRow | undefined {
  return db.get(
    newest(db, conversation)
      .where('sender_id', '!=', me)
      .where('deleted_at', 'is', null)
      .where('event', 'is', null),
  )
}

function newest(db: LocalDb, conversation: ConversationKey) {
  return db.kysely
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId(conversation))
    .where('hidden', '=', 0)
    .orderBy('sort_key', 'desc')
    .orderBy('local_id', 'desc')
    .limit(1)
}

/** The newest relay message id of a conversation (0 when none). */
export function lastServerId(db: LocalDb, conversation: ConversationKey): number {
  const newestId = db.prepare('select max(server_id) from messages where conversation_id = ?').pluck()
  return (newestId.get(conversationId(conversation)) as number | null) ?? 0
}

// Unread: messages from others above the own read marker, not deleted (counted off the
// conversation index).
const unreadSql = (conversation: string, upTo: string) => `select count(*) from messages m
  where m.conversation_id = ${conversation} and m.sender_id != $me and m.sort_key > ${upTo}
    and m.deleted_at is null and m.event is null and m.hidden = 0`

type Unread = { conversation: ConversationKey; count: number }

/** Unread per conversation. */
export function unreadByConversation(db: LocalDb, me: number): Unread[] {
  return db
    .prepare(
      `select c.key as conversation, (${unreadSql(conversationIdSql('c.key'), 'c.own_read_up_to')}) as count
       from conversations c`,
    )
    .all({ me }) as Unread[]
}

export function unreadIn(db: LocalDb, me: number, conversation: ConversationKey, upTo: number): number {
  return db
    .prepare(unreadSql('$conversation', '$upTo'))
    .pluck()
    .get({ conversation: conversationId(conversation), me, upTo }) as number
}

/** Up to `limit` rows of a conversation on one side of a position, nearest first. */
export function rowsBeside(
  db: LocalDb,
  conversation: ConversationKey,
  side: { before?: number | undefined; after?: number | undefined },
  limit: number,
): MessageRow[] {
  let query = db.kysely
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId(conversation))
    .where('hidden', '=', 0)
  if (side.after !== undefined) {
    return db.all(
      query
        .where('sort_key', '>', side.after)
        .orderBy('sort_key', 'asc')
        .orderBy('local_id', 'asc')
        .limit(limit),
    )
  }
  if (side.before !== undefined) query = query.where('sort_key', '<', side.before)
  // A group's event rows share the sort key of the message they follow: local ids keep them after it
  // (the index carries the rowid, so this is still read off the index).
  return db.all(query.orderBy('sort_key', 'desc').orderBy('local_id', 'desc').limit(limit))
}

/**
 * The first `limit` of `rows` (nearest first, as `rowsBeside` gives them, with one more row than
 * asked when there is more), and with them every other row at the position of the last one: a
 * group's change rows share the position of the message they followed, and a page that stopped
 * among them would lose the rest to the next page's exclusive bound. `more`: rows lie beyond.
 */
export function wholePositions(
  db: LocalDb,
  conversation: ConversationKey,
  rows: MessageRow[],
  limit: number,
  direction: 'older' | 'newer',
): { page: MessageRow[]; more: boolean } {
  const page = rows.slice(0, limit)
  const last = page.at(-1)
  const next = rows[limit]
  if (!last || !next) return { page, more: false }
  if (next.sort_key !== last.sort_key) return { page, more: true }
  const shared = page.filter((r) => r.sort_key !== last.sort_key)
  const at = db.all(
    db.kysely
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId(conversation))
      .where('sort_key', '=', last.sort_key)
      .orderBy('local_id', direction === 'older' ? 'desc' : 'asc'),
  )
  return {
    page: [...shared, ...at],
    more: hasMessageBeside(db, conversation, direction === 'older' ? '<' : '>', last.sort_key),
  }
}

/** Whether a conversation has a message before (`<`) or after (`>`) a position. */
export function hasMessageBeside(
  db: LocalDb,
  conversation: ConversationKey,
  op: '<' | '>',
  at: number,
): boolean {
  return (
    db.get(
      db.kysely
        .selectFrom('messages')
        .select('local_id')
        .where('conversation_id', '=', conversationId(conversation))
        .where('sort_key', op, at)
        .where('hidden', '=', 0)
        .limit(1),
    ) !== undefined
  )
}
