import type { BridgeError, ConversationView, MessageView, Reaction, UnreadCounts } from '@parley/shared'
import { isBridgeErrorCode } from '@parley/shared'
import { userView } from './contacts'
import type { LocalDb } from './local-db'
import { decodeOp } from './outbox-op'
import type { ConversationRow, MessageRow, OutboxRow } from './schema'
import { draftOf } from './small-tables'
import { insertOp } from './tables/outbox'
import { indexTextIfSmall } from './text-index'

const EMPTY_MARKERS = {
  own_delivered_up_to: 0,
  own_read_up_to: 0,
  peer_delivered_up_to: 0,
  peer_read_up_to: 0,
}
type Markers = typeof EMPTY_MARKERS

export function messageRow(db: LocalDb, localId: number): MessageRow | undefined {
  return db.get(db.kysely.selectFrom('messages').selectAll().where('local_id', '=', localId))
}

export function messageRowByServerId(db: LocalDb, serverId: number): MessageRow | undefined {
  return db.get(db.kysely.selectFrom('messages').selectAll().where('server_id', '=', serverId))
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

/** Writes a message at once, as pending, with its send queued in the outbox (one transaction). */
export function insertPendingMessage(
  db: LocalDb,
  input: {
    me: number
    peerId: number
    text: string | null
    clientId: string
    now: number
    /** A picture to upload before the send: its local id (bytes already in the media cache). */
    localImage?: { id: string; width: number | null; height: number | null; mime: string; bytes: number }
  },
): number {
  return db.transaction(() => {
    const image = input.localImage
    const localId = db
      .prepare(
        `insert into messages (client_id, sender_id, recipient_id, peer_id, text, created_at, send_state,
           image_id, image_width, image_height, image_mime, image_bytes, image_local)
         values (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?) returning local_id`,
      )
      .pluck()
      .get(
        input.clientId,
        input.me,
        input.peerId,
        input.peerId,
        input.text,
        input.now,
        image?.id ?? null,
        image?.width ?? null,
        image?.height ?? null,
        image?.mime ?? null,
        image?.bytes ?? null,
        image ? 1 : 0,
      ) as number
    touchConversation(db, input.peerId, input.now)
    insertOp(db, { kind: 'send' }, input.peerId, localId, input.now)
    indexTextIfSmall(db)
    return localId
  })
}

/** A message's picture reached the relay: it now carries the relay's image instead of the local one. */
export function setUploadedImage(
  db: LocalDb,
  localId: number,
  image: { id: string; width: number; height: number; mime: string; bytes: number },
): void {
  db.prepare(
    `update messages set image_id = ?, image_width = ?, image_height = ?, image_mime = ?, image_bytes = ?,
       image_local = 0 where local_id = ? and image_local = 1`,
  ).run(image.id, image.width, image.height, image.mime, image.bytes, localId)
}

export function touchConversation(db: LocalDb, peerId: number, at: number): void {
  db.prepare(
    `insert into conversations (peer_id, last_activity_at) values (?, ?)
     on conflict (peer_id) do update set last_activity_at = max(last_activity_at, excluded.last_activity_at)`,
  ).run(peerId, at)
}

export function conversationMarkers(db: LocalDb, peerId: number): Markers {
  return (
    db.get(
      db.kysely
        .selectFrom('conversations')
        .select(['own_delivered_up_to', 'own_read_up_to', 'peer_delivered_up_to', 'peer_read_up_to'])
        .where('peer_id', '=', peerId),
    ) ?? EMPTY_MARKERS
  )
}

/** Outbox entries that change how these messages look (edits, deletes, reactions not yet in the feed). */
function overlayOps(db: LocalDb, localIds: readonly number[]): Map<number, OutboxRow[]> {
  const result = new Map<number, OutboxRow[]>()
  if (localIds.length === 0) return result
  const rows = db.all(
    db.kysely
      .selectFrom('outbox')
      .selectAll()
      .where('message_local_id', 'in', localIds)
      .where('kind', 'in', ['send', 'edit', 'delete', 'react'])
      .orderBy('id'),
  )
  for (const row of rows) {
    const id = row.message_local_id as number
    const list = result.get(id)
    if (list) list.push(row)
    else result.set(id, [row])
  }
  return result
}

/** Message views for rows, all of one account; markers and outbox overlays are read in bulk. */
export function messageViews(db: LocalDb, me: number, rows: readonly MessageRow[]): MessageView[] {
  const ops = overlayOps(
    db,
    rows.map((r) => r.local_id),
  )
  const markers = new Map<number, Markers>()
  return rows.map((row) => {
    let m = markers.get(row.peer_id)
    if (!m) {
      m = conversationMarkers(db, row.peer_id)
      markers.set(row.peer_id, m)
    }
    return toView(row, me, m, ops.get(row.local_id) ?? [])
  })
}

export function messageView(db: LocalDb, me: number, localId: number): MessageView | undefined {
  const row = messageRow(db, localId)
  return row ? messageViews(db, me, [row])[0] : undefined
}

function toView(row: MessageRow, me: number, markers: Markers, ops: readonly OutboxRow[]): MessageView {
  const mine = row.sender_id === me
  let text = row.text
  let image: MessageView['image'] =
    row.image_id === null
      ? null
      : {
          id: row.image_id,
          width: row.image_width,
          height: row.image_height,
          mime: row.image_mime ?? 'application/octet-stream',
          local: row.image_local === 1,
        }
  let editedAt = row.edited_at
  let deletedAt = row.deleted_at
  let reactions = JSON.parse(row.reactions) as Reaction[]
  let failure: BridgeError | null =
    row.send_state === 'failed' ? toError(row.failure_code, row.failure_message) : null
  let changePending = false
  // Replay this device's changes that the feed has not brought back yet, in the order made.
  for (const op of ops) {
    if (op.kind === 'send') continue
    if (op.state === 'failed') {
      failure ??= toError(op.error_code, op.error_message)
      continue
    }
    changePending = true
    if (deletedAt !== null && op.kind !== 'delete') continue
    const change = decodeOp(op)
    if (change.kind === 'edit') {
      text = change.text
      editedAt = Math.max(editedAt ?? 0, op.created_at)
    } else if (change.kind === 'delete') {
      text = null
      image = null
      deletedAt ??= op.created_at
      reactions = []
    } else if (change.kind === 'react') {
      reactions = withReaction(reactions, change.emoji, me, change.present)
    }
  }
  return {
    localId: row.local_id,
    id: row.server_id,
    clientId: row.client_id,
    senderId: row.sender_id,
    recipientId: row.recipient_id,
    peerId: row.peer_id,
    mine,
    text,
    image,
    createdAt: row.created_at,
    editedAt,
    deletedAt,
    reactions,
    state: stateOf(row, mine, markers),
    failure,
    changePending,
    position: row.sort_key,
  }
}

function stateOf(row: MessageRow, mine: boolean, markers: Markers): MessageView['state'] {
  if (row.send_state === 'pending' || row.server_id === null) {
    return row.send_state === 'failed' ? 'failed' : 'pending'
  }
  // Delivered and read are read off the conversation's markers, so a receipt is one row update.
  if (mine) {
    if (row.server_id <= markers.peer_read_up_to) return 'read'
    if (row.server_id <= markers.peer_delivered_up_to) return 'delivered'
    return 'sent'
  }
  return row.server_id <= markers.own_read_up_to ? 'read' : 'delivered'
}

function toError(code: string | null, message: string | null): BridgeError {
  return { code: isBridgeErrorCode(code) ? code : 'internal', message: message ?? 'failed' }
}

/** `reactions` with `userId`'s `emoji` present or absent; a new emoji goes last, as on the relay. */
export function withReaction(
  reactions: Reaction[],
  emoji: string,
  userId: number,
  present: boolean,
): Reaction[] {
  const result: Reaction[] = []
  let found = false
  for (const r of reactions) {
    if (r.emoji !== emoji) {
      result.push(r)
      continue
    }
    found = true
    const others = r.userIds.filter((id) => id !== userId)
    const userIds = present ? [...others, userId] : others
    if (userIds.length > 0) result.push({ emoji, userIds })
  }
  if (!found && present) result.push({ emoji, userIds: [userId] })
  return result
}

export function hasReaction(reactions: Reaction[], emoji: string, userId: number): boolean {
  return reactions.some((r) => r.emoji === emoji && r.userIds.includes(userId))
}

/**
 * A page of a conversation, newest first: the newest `limit` messages before the position `before`
 * (exclusive), or, with `after`, the oldest `limit` messages after that position (exclusive).
 */
export function messagePage(
  db: LocalDb,
  me: number,
  peerId: number,
  range: { before?: number | undefined; after?: number | undefined },
  limit: number,
): { messages: MessageView[]; nextBefore: number | null; nextAfter: number | null } {
  const base = db.kysely.selectFrom('messages').selectAll().where('peer_id', '=', peerId)
  const exists = (op: '<' | '>', at: number) =>
    db.get(base.clearSelect().select('local_id').where('sort_key', op, at).limit(1)) !== undefined
  if (range.after !== undefined) {
    const rows = db.all(
      base
        .where('sort_key', '>', range.after)
        .orderBy('sort_key', 'asc')
        .limit(limit + 1),
    )
    const page = rows.slice(0, limit).reverse()
    return {
      messages: messageViews(db, me, page),
      nextBefore: exists('<', range.after + 1) ? (page.at(-1)?.sort_key ?? range.after + 1) : null,
      nextAfter: rows.length > limit ? (page[0]?.sort_key ?? null) : null,
    }
  }
  let query = base
  if (range.before !== undefined) query = query.where('sort_key', '<', range.before)
  const rows = db.all(query.orderBy('sort_key', 'desc').limit(limit + 1))
  const page = rows.slice(0, limit)
  const newest = page[0]?.sort_key ?? (range.before === undefined ? undefined : range.before - 1)
  return {
    messages: messageViews(db, me, page),
    nextBefore: rows.length > limit ? (page.at(-1)?.sort_key ?? null) : null,
    nextAfter: newest !== undefined && exists('>', newest) ? newest : null,
  }
}

export function lastMessageRow(db: LocalDb, peerId: number): MessageRow | undefined {
  return db.get(
    db.kysely
      .selectFrom('messages')
      .selectAll()
      .where('peer_id', '=', peerId)
      .orderBy('sort_key', 'desc')
      .limit(1),
  )
}

/** The newest live message the peer sent in a conversation. */
export function lastReceivedRow(db: LocalDb, peerId: number): MessageRow | undefined {
  return db.get(
    db.kysely
      .selectFrom('messages')
      .selectAll()
      .where('peer_id', '=', peerId)
      .where('sender_id', '=', peerId)
      .where('deleted_at', 'is', null)
      .orderBy('sort_key', 'desc')
      .limit(1),
  )
}

/** The newest relay message id of a conversation (0 when none). */
export function lastServerId(db: LocalDb, peerId: number): number {
  return (
    (db.prepare('select max(server_id) from messages where peer_id = ?').pluck().get(peerId) as
      | number
      | null) ?? 0
  )
}

/** Unread: messages from the peer above the own read marker, not deleted (an index-only count). */
export function unreadCounts(db: LocalDb): UnreadCounts {
  const rows = db
    .prepare(
      `select c.peer_id as peerId,
        (select count(*) from messages m where m.peer_id = c.peer_id and m.sender_id = c.peer_id
          and m.sort_key > c.own_read_up_to and m.deleted_at is null) as count
       from conversations c`,
    )
    .all() as { peerId: number; count: number }[]
  const conversations = rows.filter((r) => r.count > 0)
  return { total: conversations.reduce((sum, r) => sum + r.count, 0), conversations }
}

export function unreadIn(db: LocalDb, peerId: number, markers: Markers): number {
  return db
    .prepare(
      `select count(*) from messages where peer_id = ? and sender_id = ? and sort_key > ? and deleted_at is null`,
    )
    .pluck()
    .get(peerId, peerId, markers.own_read_up_to) as number
}

export function conversationViews(db: LocalDb, me: number): ConversationView[] {
  const rows: ConversationRow[] = db.all(
    db.kysely.selectFrom('conversations').selectAll().orderBy('last_activity_at', 'desc').orderBy('peer_id'),
  )
  return rows.map((c) => conversationView(db, me, c))
}

export function conversationView(db: LocalDb, me: number, c: ConversationRow): ConversationView {
  const last = lastMessageRow(db, c.peer_id)
  return {
    peerId: c.peer_id,
    peer: userView(db, c.peer_id),
    lastMessage: last ? (messageViews(db, me, [last])[0] ?? null) : null,
    unread: unreadIn(db, c.peer_id, c),
    draft: draftOf(db, c.peer_id),
    lastActivityAt: c.last_activity_at,
  }
}

/** The most recently active conversation's peer, if any. */
export function mostRecentPeer(db: LocalDb): number | undefined {
  return db.get(
    db.kysely
      .selectFrom('conversations')
      .select('peer_id')
      .orderBy('last_activity_at', 'desc')
      .orderBy('peer_id')
      .limit(1),
  )?.peer_id
}

/** Moves the own read marker at once (the receipt itself goes through the outbox). */
export function moveOwnReadMarker(db: LocalDb, peerId: number, upTo: number): boolean {
  const result = db
    .prepare(
      `insert into conversations (peer_id, own_delivered_up_to, own_read_up_to) values (?, ?, ?)
       on conflict (peer_id) do update set own_read_up_to = max(own_read_up_to, excluded.own_read_up_to),
         own_delivered_up_to = max(own_delivered_up_to, excluded.own_delivered_up_to)
       where own_read_up_to < excluded.own_read_up_to`,
    )
    .run(peerId, upTo, upTo)
  return result.changes > 0
}

export function saveVersions(
  db: LocalDb,
  serverId: number,
  versions: readonly { text: string; writtenAt: number; replacedAt: number }[],
): void {
  db.transaction(() => {
    db.prepare('delete from message_versions where message_server_id = ?').run(serverId)
    const insert = db.prepare(
      'insert into message_versions (message_server_id, text, written_at, replaced_at) values (?, ?, ?, ?)',
    )
    for (const v of versions) insert.run(serverId, v.text, v.writtenAt, v.replacedAt)
  })
}

export function cachedVersions(db: LocalDb, serverId: number) {
  return db
    .all(
      db.kysely
        .selectFrom('message_versions')
        .select(['text', 'written_at', 'replaced_at'])
        .where('message_server_id', '=', serverId)
        .orderBy('written_at'),
    )
    .map((v) => ({ text: v.text, writtenAt: v.written_at, replacedAt: v.replaced_at }))
}
