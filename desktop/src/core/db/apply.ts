import type { Contact, FeedEvent, Message } from '@parley/shared'
import type { LocalDb } from './local-db'
import { decodeOp } from './outbox-op'
import type { OutboxRow } from './schema'
import { insertOp, setOpPayload } from './tables/outbox'
import { indexTextIfSmall } from './text-index'

/** Past this many changed messages in one conversation (about a screenful), listeners reload instead. */
const MAX_LISTED_CHANGES = 50

/** What one batch of feed events changed, for the service to tell the renderer. */
export interface ApplySummary {
  /** The cursor after the batch. */
  cursor: number
  applied: number
  /** Per conversation: local ids of changed messages, or null when there were too many to list. */
  messages: Map<number, Set<number> | null>
  /** Conversations whose receipt markers moved (own or peer's). */
  receipts: Set<number>
  contactsChanged: boolean
  /** The account's own profile changed. */
  profileChanged: boolean
  /** Per conversation, the newest relay id of messages received from the peer in this batch (for receipts). */
  received: Map<number, number>
  /** Per conversation, how many messages from the peer this device had not had before (for notifications). */
  arrived: Map<number, number>
}

export function emptySummary(cursor: number): ApplySummary {
  return {
    cursor,
    applied: 0,
    messages: new Map(),
    receipts: new Set(),
    contactsChanged: false,
    profileChanged: false,
    received: new Map(),
    arrived: new Map(),
  }
}

// A message this device wrote and is waiting for: the feed gives it its relay id (matched by
// sender and clientId, through the small index of pending messages).
const LINK_PENDING = `
  update messages set server_id = ?, text = ?, created_at = ?, edited_at = ?, deleted_at = ?,
    reactions = ?, send_state = 'sent', failure_code = null, failure_message = null,
    image_id = ?, image_width = ?, image_height = ?, image_mime = ?, image_bytes = ?, image_local = 0
  where sender_id = ? and client_id = ? and server_id is null
  returning local_id`

// Every other message event is an upsert by relay id.
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

const TOUCH_CONVERSATION = `
  insert into conversations (peer_id, last_activity_at) values (?, ?)
  on conflict (peer_id) do update set last_activity_at = max(last_activity_at, excluded.last_activity_at)`

// Receipt markers only move forward; reading implies delivery.
const MOVE_MARKERS = `
  insert into conversations (peer_id, own_delivered_up_to, own_read_up_to, peer_delivered_up_to,
    peer_read_up_to) values (?, ?, ?, ?, ?)
  on conflict (peer_id) do update set
    own_delivered_up_to = max(own_delivered_up_to, excluded.own_delivered_up_to),
    own_read_up_to = max(own_read_up_to, excluded.own_read_up_to),
    peer_delivered_up_to = max(peer_delivered_up_to, excluded.peer_delivered_up_to),
    peer_read_up_to = max(peer_read_up_to, excluded.peer_read_up_to)`

const UPSERT_USER = `
  insert into users (id, username, first_name, last_name, created_at, avatar_image_id)
  values (?, ?, ?, ?, ?, ?)
  on conflict (id) do update set username = excluded.username, first_name = excluded.first_name,
    last_name = excluded.last_name, created_at = excluded.created_at,
    avatar_image_id = excluded.avatar_image_id`

// A snapshot older than what is stored (a REST answer racing the feed) does not win.
const UPSERT_CONTACT = `
  insert into contacts (user_id, status, created_at, updated_at, accepted_at) values (?, ?, ?, ?, ?)
  on conflict (user_id) do update set status = excluded.status, created_at = excluded.created_at,
    updated_at = excluded.updated_at, accepted_at = excluded.accepted_at,
    presence_status = iif(excluded.status = 'accepted', presence_status, null),
    last_seen = iif(excluded.status = 'accepted', last_seen, null)
  where excluded.updated_at >= contacts.updated_at`

/**
 * Applies feed events with `seq` above the cursor, in order, in one synchronous transaction, and
 * moves the cursor. Applying an event twice changes nothing (upserts, forward-only markers), and
 * events at or below the cursor are skipped. The caller hands over contiguous events (a sync page,
 * or a live event with seq = cursor + 1).
 */
export interface ApplyOptions {
  /**
   * Queue delivered receipts for received messages now (live events). A catch-up passes false,
   * collects `received` over its pages and queues them once at the end.
   */
  receipts?: boolean
  /** A sync page's cursor: the cursor moves there even past events this build skipped. */
  advanceTo?: number
}

export function applyEvents(
  db: LocalDb,
  me: number,
  events: readonly FeedEvent[],
  now: number,
  options: ApplyOptions = {},
): ApplySummary {
  const linkPending = db.prepare(LINK_PENDING).pluck()
  const upsertMessage = db.prepare(UPSERT_MESSAGE).pluck()
  const touchConversation = db.prepare(TOUCH_CONVERSATION)
  const moveMarkers = db.prepare(MOVE_MARKERS)
  const upsertUser = db.prepare(UPSERT_USER)
  const upsertContact = db.prepare(UPSERT_CONTACT)
  const removeContact = db.prepare('delete from contacts where user_id = ?')
  const readCursor = db.prepare('select cursor from sync_state where id = 1').pluck()
  const readMaxLocalId = db.prepare('select coalesce(max(local_id), 0) from messages').pluck()
  const writeCursor = db.prepare('update sync_state set cursor = ? where id = 1')

  return db.transaction(() => {
    const start = readCursor.get() as number
    const maxLocalIdBefore = readMaxLocalId.get() as number
    const summary = emptySummary(start)
    let cursor = start
    const activity = new Map<number, number>()
    let sentByMe = false

    const noteMessage = (peerId: number, localId: number) => {
      let changed = summary.messages.get(peerId)
      if (changed === null) return
      if (changed === undefined) {
        changed = new Set()
        summary.messages.set(peerId, changed)
      }
      changed.add(localId)
      if (changed.size > MAX_LISTED_CHANGES) summary.messages.set(peerId, null)
    }
    const upsertUserRow = (user: {
      id: number
      username: string
      firstName: string
      lastName: string
      createdAt: number
      avatarImageId?: string | null
    }) =>
      upsertUser.run(
        user.id,
        user.username,
        user.firstName,
        user.lastName,
        user.createdAt,
        user.avatarImageId ?? null,
      )
    const applyContact = (contact: Contact) => {
      upsertUserRow(contact.user)
      upsertContact.run(
        contact.user.id,
        contact.status,
        contact.createdAt,
        contact.updatedAt,
        contact.acceptedAt,
      )
      summary.contactsChanged = true
    }

    for (const event of events) {
      if (event.seq <= cursor) continue
      cursor = event.seq
      summary.applied += 1
      switch (event.type) {
        case 'message':
        case 'message_updated':
        case 'message_deleted':
        case 'reaction': {
          const m: Message = event.data
          const mine = m.senderId === me
          const peerId = mine ? m.recipientId : m.senderId
          const reactions = JSON.stringify(m.reactions)
          // Optional chaining: a relay older than images sends no `image` at all.
          const image = m.image ?? null
          const imageFields = [
            image?.id ?? null,
            image?.width ?? null,
            image?.height ?? null,
            image?.mime ?? null,
            image?.bytes ?? null,
          ]
          const linked = mine
            ? (linkPending.get(
                m.id,
                m.text,
                m.createdAt,
                m.editedAt,
                m.deletedAt,
                reactions,
                ...imageFields,
                me,
                m.clientId,
              ) as number | undefined)
            : undefined
          const localId =
            linked ??
            (upsertMessage.get(
              m.id,
              m.clientId,
              m.senderId,
              m.recipientId,
              peerId,
              m.text,
              m.createdAt,
              m.editedAt,
              m.deletedAt,
              reactions,
              ...imageFields,
            ) as number)
          noteMessage(peerId, localId)
          activity.set(peerId, Math.max(activity.get(peerId) ?? 0, m.createdAt))
          if (mine) sentByMe = true
          else if (event.type === 'message') {
            summary.received.set(peerId, Math.max(summary.received.get(peerId) ?? 0, m.id))
            // Local ids only grow: one above the batch's starting maximum is a new row.
            if (localId > maxLocalIdBefore)
              summary.arrived.set(peerId, (summary.arrived.get(peerId) ?? 0) + 1)
          }
          break
        }
        case 'delivered':
        case 'read': {
          const { userId, peerId, upTo } = event.data
          const read = event.type === 'read' ? upTo : 0
          if (userId === me) moveMarkers.run(peerId, upTo, read, 0, 0)
          else if (peerId === me) moveMarkers.run(userId, 0, 0, upTo, read)
          else break
          summary.receipts.add(userId === me ? peerId : userId)
          break
        }
        case 'contact_added':
        case 'contact_updated':
          applyContact(event.data)
          break
        case 'contact_removed':
          removeContact.run(event.data.userId)
          summary.contactsChanged = true
          break
        case 'user_updated': {
          const user = event.data
          upsertUserRow(user)
          if (user.id === me && 'email' in user) {
            db.prepare(
              `update account set username = ?, first_name = ?, last_name = ?, email = ?,
                avatar_image_id = ? where id = 1`,
            ).run(user.username, user.firstName, user.lastName, user.email, user.avatarImageId ?? null)
            summary.profileChanged = true
          }
          summary.contactsChanged = true
          break
        }
      }
    }
    for (const [peerId, at] of activity) touchConversation.run(peerId, at)
    if (sentByMe) {
      // A send whose ack was lost is done once its message came back through the feed.
      db.prepare(
        `delete from outbox where kind = 'send' and message_local_id in
          (select local_id from messages where server_id is not null and local_id = outbox.message_local_id)`,
      ).run()
    }
    if (options.advanceTo !== undefined && options.advanceTo > cursor) cursor = options.advanceTo
    if (cursor !== start) {
      writeCursor.run(cursor)
      // Changes the relay acknowledged stop overlaying the message once the feed caught up with them.
      db.prepare(`delete from outbox where state = 'acked' and ack_seq <= ?`).run(cursor)
    }
    if (options.receipts ?? true) queueDeliveredReceipts(db, summary.received, now)
    indexTextIfSmall(db)
    summary.cursor = cursor
    return summary
  })
}

/** Tells the relay (through the outbox) that messages arrived, once per conversation and batch. */
export function queueDeliveredReceipts(db: LocalDb, received: Map<number, number>, now: number): void {
  if (received.size === 0) return
  const markers = db.prepare(
    'select max(own_delivered_up_to, own_read_up_to) from conversations where peer_id = ?',
  )
  for (const [peerId, upTo] of received) {
    if (((markers.pluck().get(peerId) as number | undefined) ?? 0) >= upTo) continue
    coalesceReceipt(db, 'delivered', peerId, upTo, now)
  }
}

/** Queues a receipt, or moves the queued one for that conversation forward (only the latest matters). */
export function coalesceReceipt(
  db: LocalDb,
  kind: 'read' | 'delivered',
  peerId: number,
  upTo: number,
  now: number,
): void {
  const queued = db
    .prepare(`select id, kind, payload from outbox where kind = ? and peer_id = ? and state = 'queued'`)
    .get(kind, peerId) as Pick<OutboxRow, 'id' | 'kind' | 'payload'> | undefined
  if (queued) {
    const current = decodeOp(queued)
    if ((current.kind === 'read' || current.kind === 'delivered') && current.upTo < upTo) {
      setOpPayload(db, queued.id, { kind, upTo })
    }
    return
  }
  insertOp(db, { kind, upTo }, peerId, null, now)
}
