import type { BridgeError, ConversationKey, MessageView, Reaction } from '@parley/shared'
import { isBridgeErrorCode } from '@parley/shared'
import { conversationKeyOf } from '../conversation-id'
import type { LocalDb } from '../local-db'
import { decodeOp } from '../outbox-op'
import { withReaction } from '../reactions'
import type { MessageRow, OutboxRow } from '../schema'
import { conversationMarkers, type Markers } from '../tables/conversations'
import { hasMessageBeside, messageRow, rowsBeside, wholePositions } from '../tables/messages'
import { messageOps } from '../tables/outbox'
import { eventView, personRef } from './groups'
import { parseFile, parseVoice, replyQuote } from './reply-quote'

// Messages as the bridge shows them: the stored row, with this device's changes that the feed has
// not brought back yet replayed over it, and its state read off the conversation's markers.

/** Outbox entries that change how these messages look (edits, deletes, reactions not yet in the feed). */
function overlayOps(db: LocalDb, localIds: readonly number[]): Map<number, OutboxRow[]> {
  const result = new Map<number, OutboxRow[]>()
  if (localIds.length === 0) return result
  for (const row of messageOps(db, localIds)) {
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
    let m = markers.get(row.conversation_id)
    if (!m) {
      m = conversationMarkers(db, conversationKeyOf(row.conversation_id))
      markers.set(row.conversation_id, m)
    }
    return toView(db, row, me, m, ops.get(row.local_id) ?? [])
  })
}

export function messageView(db: LocalDb, me: number, localId: number): MessageView | undefined {
  const row = messageRow(db, localId)
  return row ? messageViews(db, me, [row])[0] : undefined
}

/** `@username` of this account, as a whole word (any case). */
function mentions(db: LocalDb, me: number, text: string | null): boolean {
  if (!text?.includes('@')) return false
  const username = (db.prepare('select username from account where user_id = ?').pluck().get(me) ??
    '') as string
  if (!username) return false
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`(^|[^\\w@])@${escaped}(?![\\w])`, 'i').test(text)
}

function toView(
  db: LocalDb,
  row: MessageRow,
  me: number,
  markers: Markers,
  ops: readonly OutboxRow[],
): MessageView {
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
  let file = parseFile(row.file, row.file_local === 1)
  let voice = parseVoice(row.voice, row.voice_played === 1, file)
  // A voice message's recording shows as its voice, not as an attached file too.
  if (voice) file = null
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
      file = null
      voice = null
      deletedAt ??= op.created_at
      reactions = []
    } else if (change.kind === 'react') {
      reactions = withReaction(reactions, change.emoji, me, change.present)
    }
  }
  const isEvent = row.event !== null
  return {
    kind: isEvent ? 'event' : image ? 'image' : 'text',
    localId: row.local_id,
    id: row.server_id,
    clientId: row.client_id,
    senderId: row.sender_id,
    recipientId: row.conversation_id < 0 ? null : row.recipient_id,
    conversation: conversationKeyOf(row.conversation_id),
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
    sender: personRef(db, me, row.sender_id),
    event: row.event === null ? null : eventView(db, me, row.event),
    mentionsMe: !mine && !isEvent && mentions(db, me, text),
    // A deleted message keeps none of what it said, nor what it answered.
    replyTo: deletedAt === null ? replyQuote(db, me, row) : null,
    forwarded: deletedAt === null && row.forwarded === 1,
    file,
    voice,
  }
}

function stateOf(row: MessageRow, mine: boolean, markers: Markers): MessageView['state'] {
  if (row.event !== null) return 'read'
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

/**
 * A page of a conversation, newest first: the newest `limit` messages before the position `before`
 * (exclusive), or, with `after`, the oldest `limit` messages after that position (exclusive). The
 * page never ends inside a position (see wholePositions): it may hold a few rows more than `limit`.
 */
export function messagePage(
  db: LocalDb,
  me: number,
  conversation: ConversationKey,
  range: { before?: number | undefined; after?: number | undefined },
  limit: number,
): { messages: MessageView[]; nextBefore: number | null; nextAfter: number | null } {
  const exists = (op: '<' | '>', at: number) => hasMessageBeside(db, conversation, op, at)
  if (range.after !== undefined) {
    const rows = rowsBeside(db, conversation, { after: range.after }, limit + 1)
    const { page: ascending, more } = wholePositions(db, conversation, rows, limit, 'newer')
    const page = ascending.reverse()
    return {
      messages: messageViews(db, me, page),
      nextBefore: exists('<', range.after + 1) ? (page.at(-1)?.sort_key ?? range.after + 1) : null,
      nextAfter: more ? (page[0]?.sort_key ?? null) : null,
    }
  }
  const rows = rowsBeside(db, conversation, { before: range.before }, limit + 1)
  const { page, more } = wholePositions(db, conversation, rows, limit, 'older')
  const newest = page[0]?.sort_key ?? (range.before === undefined ? undefined : range.before - 1)
  return {
    messages: messageViews(db, me, page),
    nextBefore: more ? (page.at(-1)?.sort_key ?? null) : null,
    nextAfter: newest !== undefined && exists('>', newest) ? newest : null,
  }
}
