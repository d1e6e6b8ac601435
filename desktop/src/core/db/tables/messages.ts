import type { Message } from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { MessageRow } from '../schema'

// The `messages` table: the relay's messages and the ones written here, by local id (kept from the
// optimistic write to the relay's copy).
// A little over 300 lines, on purpose: it is every statement on the table, in one place, and the
// feed's two statements spell out their positional arguments (see LINK_PENDING).

export function messageRow(db: LocalDb, localId: number): MessageRow | undefined {
  return db.get(db.kysely.selectFrom('messages').selectAll().where('local_id', '=', localId))
}

export function messageRowByServerId(db: LocalDb, serverId: number): MessageRow | undefined {
  return db.get(db.kysely.selectFrom('messages').selectAll().where('server_id', '=', serverId))
}

/** Rows by local id, in no particular order. */
export function messageRowsByLocalIds(db: LocalDb, localIds: readonly number[]): MessageRow[] {
  return db
    .prepare('select * from messages where local_id in (select value from json_each(?))')
    .all(JSON.stringify(localIds)) as MessageRow[]
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

/** A message this account writes, before the relay has it. */
export interface PendingMessage {
  me: number
  peerId: number
  text: string | null
  clientId: string
  now: number
  /** A picture to upload before the send: its local id (bytes already in the media cache). */
  localImage?: ImageFields
}

/** Writes a message of this account as pending; returns its local id. */
export function insertPendingRow(db: LocalDb, input: PendingMessage): number {
  const image = input.localImage
  return db
    .prepare(
      `insert into messages (client_id, sender_id, recipient_id, peer_id, text, created_at, send_state,
         image_id, image_width, image_height, image_mime, image_bytes, image_local)
       values ($clientId, $me, $peerId, $peerId, $text, $now, 'pending', $imageId, $imageWidth, $imageHeight,
         $imageMime, $imageBytes, $imageLocal) returning local_id`,
    )
    .pluck()
    .get({
      clientId: input.clientId,
      me: input.me,
      peerId: input.peerId,
      text: input.text,
      now: input.now,
      ...imageParams(image),
      imageLocal: image ? 1 : 0,
    }) as number
}

function imageParams(image: ImageFields | null | undefined) {
  return {
    imageId: image?.id ?? null,
    imageWidth: image?.width ?? null,
    imageHeight: image?.height ?? null,
    imageMime: image?.mime ?? null,
    imageBytes: image?.bytes ?? null,
  }
}

/** A relay message's columns, built once per feed event for both statements below. */
export function relayMessageParams(m: Message, me: number, peerId: number) {
  // Optional chaining: a relay older than images sends no `image` at all.
  const image = m.image ?? null
  return {
    id: m.id,
    clientId: m.clientId,
    senderId: m.senderId,
    recipientId: m.recipientId,
    peerId,
    me,
    text: m.text,
    createdAt: m.createdAt,
    editedAt: m.editedAt,
    deletedAt: m.deletedAt,
    reactions: JSON.stringify(m.reactions),
    imageId: image?.id ?? null,
    imageWidth: image?.width ?? null,
    imageHeight: image?.height ?? null,
    imageMime: image?.mime ?? null,
    imageBytes: image?.bytes ?? null,
  }
}
type RelayMessageParams = ReturnType<typeof relayMessageParams>

// The feed's two statements bind by position, in the order of the comments beside them: they run
// once per message of a catch-up, and binding sixteen values by name costs better-sqlite3 about a
// third more per statement than by position (measured). Their callers still pass named fields.

// A message this device wrote and is waiting for: the feed gives it its relay id (matched by
// sender and clientId, through the small index of pending messages).
const LINK_PENDING = `
  update messages set server_id = ? /* id */, text = ? /* text */, created_at = ? /* createdAt */,
    edited_at = ? /* editedAt */, deleted_at = ? /* deletedAt */, reactions = ? /* reactions */,
    send_state = 'sent', failure_code = null, failure_message = null,
    image_id = ?, image_width = ?, image_height = ?, image_mime = ?, image_bytes = ? /* image… */,
    image_local = 0
  where sender_id = ? /* me */ and client_id = ? /* clientId */ and server_id is null
  returning local_id`

/** The local id of the pending message this relay message is, if it is one. */
export function linkPending(db: LocalDb, p: RelayMessageParams): number | undefined {
  return db
    .prepare(LINK_PENDING)
    .pluck()
    .get(
      p.id,
      p.text,
      p.createdAt,
      p.editedAt,
      p.deletedAt,
      p.reactions,
      p.imageId,
      p.imageWidth,
      p.imageHeight,
      p.imageMime,
      p.imageBytes,
      p.me,
      p.clientId,
    ) as number | undefined
}

// Every other message event is an upsert by relay id (values in the order of the columns).
const UPSERT_MESSAGE = `
  insert into messages (server_id, client_id, sender_id, recipient_id, peer_id, text, created_at,
    edited_at, deleted_at, reactions, send_state, image_id, image_width, image_height, image_mime,
    image_bytes)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?, ?)
  on conflict (server_id) do update set text = excluded.text, edited_at = excluded.edited_at,
    deleted_at = excluded.deleted_at, reactions = excluded.reactions, image_id = excluded.image_id,
    image_width = excluded.image_width, image_height = excluded.image_height,
    image_mime = excluded.image_mime, image_bytes = excluded.image_bytes, image_local = 0
  returning local_id`

export function upsertRelayMessage(db: LocalDb, p: RelayMessageParams): number {
  return db
    .prepare(UPSERT_MESSAGE)
    .pluck()
    .get(
      p.id,
      p.clientId,
      p.senderId,
      p.recipientId,
      p.peerId,
      p.text,
      p.createdAt,
      p.editedAt,
      p.deletedAt,
      p.reactions,
      p.imageId,
      p.imageWidth,
      p.imageHeight,
      p.imageMime,
      p.imageBytes,
    ) as number
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
export function lastMessageRow(db: LocalDb, peerId: number): MessageRow | undefined {
  return db.get(newest(db, peerId))
}

/** The newest live message the peer sent in a conversation. */
export function lastReceivedRow(db: LocalDb, peerId: number): MessageRow | undefined {
  return db.get(newest(db, peerId).where('sender_id', '=', peerId).where('deleted_at', 'is', null))
}

function newest(db: LocalDb, peerId: number) {
  return db.kysely
    .selectFrom('messages')
    .selectAll()
    .where('peer_id', '=', peerId)
    .orderBy('sort_key', 'desc')
    .limit(1)
}

/** The newest relay message id of a conversation (0 when none). */
export function lastServerId(db: LocalDb, peerId: number): number {
  return (
    (db.prepare('select max(server_id) from messages where peer_id = ?').pluck().get(peerId) as
      | number
      | null) ?? 0
  )
}

/** Unread per conversation: messages from the peer above the own read marker, not deleted (index-only counts). */
export function unreadByConversation(db: LocalDb): { peerId: number; count: number }[] {
  return db
    .prepare(
      `select c.peer_id as peerId,
        (select count(*) from messages m where m.peer_id = c.peer_id and m.sender_id = c.peer_id
          and m.sort_key > c.own_read_up_to and m.deleted_at is null) as count
       from conversations c`,
    )
    .all() as { peerId: number; count: number }[]
}

export function unreadIn(db: LocalDb, peerId: number, ownReadUpTo: number): number {
  return db
    .prepare(
      `select count(*) from messages where peer_id = $peerId and sender_id = $peerId and sort_key > $upTo
         and deleted_at is null`,
    )
    .pluck()
    .get({ peerId, upTo: ownReadUpTo }) as number
}

/** Up to `limit` rows of a conversation on one side of a position, nearest first. */
export function rowsBeside(
  db: LocalDb,
  peerId: number,
  side: { before?: number | undefined; after?: number | undefined },
  limit: number,
): MessageRow[] {
  let query = db.kysely.selectFrom('messages').selectAll().where('peer_id', '=', peerId)
  if (side.after !== undefined) {
    return db.all(query.where('sort_key', '>', side.after).orderBy('sort_key', 'asc').limit(limit))
  }
  if (side.before !== undefined) query = query.where('sort_key', '<', side.before)
  return db.all(query.orderBy('sort_key', 'desc').limit(limit))
}

/** Whether a conversation has a message before (`<`) or after (`>`) a position. */
export function hasMessageBeside(db: LocalDb, peerId: number, op: '<' | '>', at: number): boolean {
  return (
    db.get(
      db.kysely
        .selectFrom('messages')
        .select('local_id')
        .where('peer_id', '=', peerId)
        .where('sort_key', op, at)
        .limit(1),
    ) !== undefined
  )
}
