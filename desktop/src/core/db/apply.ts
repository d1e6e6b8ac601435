import { type ConversationKey, dmKey, type FeedEvent, type Message, type Receipt } from '@parley/shared'
import { coalesceReceipt } from './local-changes'
import type { LocalDb } from './local-db'
import { updateProfile } from './tables/account'
import { deleteContact, upsertContact } from './tables/contacts'
import { moveMarkers, ownReceiptMarker, touchConversation } from './tables/conversations'
import { linkPending, maxLocalId, relayMessageParams, upsertRelayMessage } from './tables/messages'
import { deleteAckedUpTo, deleteLinkedSends } from './tables/outbox'
import { cursorOf, setCursor } from './tables/sync-state'
import { upsertUser } from './tables/users'
import { indexTextIfSmall } from './text-index'

/** Past this many changed messages in one conversation (about a screenful), listeners reload instead. */
const MAX_LISTED_CHANGES = 50

/** What one batch of feed events changed, for the service to tell the renderer. */
export interface ApplySummary {
  /** The cursor after the batch. */
  cursor: number
  applied: number
  /** Per conversation: local ids of changed messages, or null when there were too many to list. */
  messages: Map<ConversationKey, Set<number> | null>
  /** Conversations whose receipt markers moved (own or peer's). */
  receipts: Set<ConversationKey>
  contactsChanged: boolean
  /** The account's own profile changed. */
  profileChanged: boolean
  /** Per conversation, the newest relay id of messages received from others in this batch (for receipts). */
  received: Map<ConversationKey, number>
  /** Per conversation, how many messages from others this device had not had before (for notifications). */
  arrived: Map<ConversationKey, number>
}

function emptySummary(cursor: number): ApplySummary {
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
  return db.transaction(() => {
    const start = cursorOf(db)
    const maxLocalIdBefore = maxLocalId(db)
    const summary = emptySummary(start)
    let cursor = start
    const activity = new Map<ConversationKey, number>()
    let sentByMe = false

    const noteMessage = (conversation: ConversationKey, localId: number) => {
      let changed = summary.messages.get(conversation)
      if (changed === null) return
      if (changed === undefined) {
        changed = new Set()
        summary.messages.set(conversation, changed)
      }
      changed.add(localId)
      if (changed.size > MAX_LISTED_CHANGES) summary.messages.set(conversation, null)
    }
    for (const event of events) {
      if (event.seq <= cursor) continue
      cursor = event.seq
      summary.applied += 1
      // Groups are not handled by the desktop yet: their events are passed over (cursor kept).
      if (concernsGroup(event)) continue
      switch (event.type) {
        case 'message':
        case 'message_updated':
        case 'message_deleted':
        case 'reaction': {
          const m: Message = event.data
          const mine = m.senderId === me
          // A 1:1 message (group ones were passed over above) has its recipient.
          const peer = mine ? m.recipientId! : m.senderId
          const conversation = dmKey(peer)
          const params = relayMessageParams(m, me, peer)
          const localId = (mine ? linkPending(db, params) : undefined) ?? upsertRelayMessage(db, params)
          noteMessage(conversation, localId)
          activity.set(conversation, Math.max(activity.get(conversation) ?? 0, m.createdAt))
          if (mine) sentByMe = true
          else if (event.type === 'message') {
            summary.received.set(conversation, Math.max(summary.received.get(conversation) ?? 0, m.id))
            // Local ids only grow: one above the batch's starting maximum is a new row.
            if (localId > maxLocalIdBefore)
              summary.arrived.set(conversation, (summary.arrived.get(conversation) ?? 0) + 1)
          }
          break
        }
        case 'delivered':
        case 'read': {
          const { userId, peerId, upTo } = event.data as Receipt
          const read = event.type === 'read'
          const conversation = dmKey(userId === me ? peerId : userId)
          if (userId === me) moveMarkers(db, conversation, 'own', upTo, read)
          else if (peerId === me) moveMarkers(db, conversation, 'peer', upTo, read)
          else break
          summary.receipts.add(conversation)
          break
        }
        case 'contact_added':
        case 'contact_updated':
          upsertContact(db, event.data)
          summary.contactsChanged = true
          break
        case 'contact_removed':
          deleteContact(db, event.data.userId)
          summary.contactsChanged = true
          break
        case 'user_updated': {
          const user = event.data
          upsertUser(db, user)
          if (user.id === me && 'email' in user) {
            updateProfile(db, user)
            summary.profileChanged = true
          }
          summary.contactsChanged = true
          break
        }
      }
    }
    for (const [conversation, at] of activity) touchConversation(db, conversation, at)
    // A send whose ack was lost is done once its message came back through the feed.
    if (sentByMe) deleteLinkedSends(db)
    if (options.advanceTo !== undefined && options.advanceTo > cursor) cursor = options.advanceTo
    if (cursor !== start) {
      setCursor(db, cursor)
      deleteAckedUpTo(db, cursor)
    }
    if (options.receipts ?? true) queueDeliveredReceipts(db, summary.received, now)
    indexTextIfSmall(db)
    summary.cursor = cursor
    return summary
  })
}

/** Whether a feed event is about a group (a group message, a group receipt, a group's membership). */
function concernsGroup(event: FeedEvent): boolean {
  switch (event.type) {
    case 'message':
    case 'message_updated':
    case 'message_deleted':
    case 'reaction':
      return event.data.groupId !== null
    case 'delivered':
    case 'read':
      return 'groupId' in event.data
    case 'group_added':
    case 'group_updated':
    case 'group_removed':
      return true
    default:
      return false
  }
}

/** Tells the relay (through the outbox) that messages arrived, once per conversation and batch. */
export function queueDeliveredReceipts(
  db: LocalDb,
  received: Map<ConversationKey, number>,
  now: number,
): void {
  for (const [conversation, upTo] of received) {
    if (ownReceiptMarker(db, conversation) < upTo) coalesceReceipt(db, 'delivered', conversation, upTo, now)
  }
}
