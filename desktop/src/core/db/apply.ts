import {
  type ConversationKey,
  dmKey,
  type FeedEvent,
  type GroupEvent,
  type GroupReceipt,
  type GroupUpdate,
  groupKey,
  type Message,
  type Receipt,
} from '@parley/shared'
import { conversationKeyOf } from './conversation-id'
import { coalesceReceipt } from './local-changes'
import type { LocalDb } from './local-db'
import { updateProfile } from './tables/account'
import { deleteContact, upsertContact } from './tables/contacts'
import { moveMarkers, ownReceiptMarker, touchConversation } from './tables/conversations'
import {
  dropMember,
  groupRow,
  insertEventRow,
  markLeft,
  noteGroupMessage,
  putMember,
  recountGroup,
  saveGroup,
  setGroupFields,
  setLogCursor,
  setMemberRole,
} from './tables/groups'
import { hideRows, linkPending, maxLocalId, relayMessageParams, upsertRelayMessage } from './tables/messages'
import { deleteAckedUpTo, deleteLinkedSends } from './tables/outbox'
import { recordReceiptTime } from './tables/receipt-times'
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
  /** Groups whose own fields or members changed (or that were added or left). */
  groups: Set<number>
  /** Groups to read the log of (newly added ones). */
  groupsBehind: Set<number>
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
    groups: new Set(),
    groupsBehind: new Set(),
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
      switch (event.type) {
        case 'group_added': {
          // The group as of the entry that added this account; its log is read from that entry on
          // (the relay starts a member's log at their joining, which shows as the timeline's first row).
          saveGroup(db, me, event.data, 0)
          touchConversation(db, groupKey(event.data.id), event.data.createdAt)
          summary.groups.add(event.data.id)
          summary.groupsBehind.add(event.data.id)
          break
        }
        case 'group_updated': {
          // A change about this account (its role): the log brings the timeline's row.
          const u = event.data
          if (u.change.kind === 'role' && groupRow(db, u.groupId)) {
            setMemberRole(db, u.groupId, u.change.userId, u.change.role)
            recountGroup(db, u.groupId, me)
            summary.groups.add(u.groupId)
          }
          break
        }
        case 'group_removed': {
          const r = event.data
          if (!groupRow(db, r.groupId)) break
          if (markLeft(db, r.groupId, now, r.reason)) {
            const key = groupKey(r.groupId)
            const change =
              r.reason === 'deleted' ? { kind: 'deleted' } : { kind: 'member_removed', userId: me }
            const localId = insertEventRow(db, {
              groupId: r.groupId,
              clientId: `removed:${r.groupId}:${event.seq}`,
              by: r.by,
              event: { by: r.by, change },
              at: now,
            })
            if (localId !== undefined) noteMessage(key, localId)
            activity.set(key, Math.max(activity.get(key) ?? 0, now))
          }
          summary.groups.add(r.groupId)
          break
        }
        default:
          break
      }
      if (concernsGroup(event)) {
        // This account's own receipts in a group (from another of its devices).
        if ((event.type === 'read' || event.type === 'delivered') && 'groupId' in event.data) {
          const { userId, groupId, upTo, at } = event.data as GroupReceipt
          if (userId === me) {
            moveMarkers(db, groupKey(groupId), 'own', upTo, event.type === 'read')
            if (at !== undefined)
              recordReceiptTime(db, {
                conversation: groupKey(groupId),
                whose: 'own',
                kind: event.type,
                upTo,
                at,
              })
            summary.receipts.add(groupKey(groupId))
          }
        }
        // Group messages come through the group's log, not the feed.
        continue
      }
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
        case 'message_hidden':
          // Deleted for this account (on this device or another): gone from its views, search and counts.
          for (const row of hideRows(db, { serverId: event.data.messageId }))
            noteMessage(conversationKeyOf(row.conversation_id), row.local_id)
          break
        case 'delivered':
        case 'read': {
          const { userId, peerId, upTo, at } = event.data as Receipt
          const read = event.type === 'read'
          const conversation = dmKey(userId === me ? peerId : userId)
          const whose = userId === me ? 'own' : peerId === me ? 'peer' : null
          if (whose === null) break
          moveMarkers(db, conversation, whose, upTo, read)
          if (at !== undefined) recordReceiptTime(db, { conversation, whose, kind: event.type, upTo, at })
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

/**
 * Applies entries of one group's log with `seq` above its cursor, in order, in one transaction:
 * messages (upserts, as from the feed) and changes of the group (its fields and members, and a row
 * in its timeline). The caller hands over contiguous entries (a page, or a live entry at cursor + 1).
 */
export function applyGroupEvents(
  db: LocalDb,
  me: number,
  groupId: number,
  events: readonly GroupEvent[],
  now: number,
  options: { receipts?: boolean } = {},
): ApplySummary {
  return db.transaction(() => {
    const summary = emptySummary(0)
    const group = groupRow(db, groupId)
    if (!group || group.left_at !== null) return summary
    const key = groupKey(groupId)
    const maxLocalIdBefore = maxLocalId(db)
    let cursor = group.log_cursor
    let changed: Set<number> | null = new Set()
    const note = (localId: number) => {
      if (changed === null) return
      changed.add(localId)
      if (changed.size > MAX_LISTED_CHANGES) changed = null
    }
    let activity = 0
    let sentByMe = false
    for (const event of events) {
      if (event.seq <= cursor) continue
      cursor = event.seq
      summary.applied += 1
      if (event.type === 'group_updated') {
        const u = event.data as GroupUpdate
        applyChange(db, me, groupId, u, now)
        const localId = insertEventRow(db, {
          groupId,
          clientId: `log:${groupId}:${event.seq}`,
          by: u.by,
          event: { by: u.by, change: u.change },
          at: event.createdAt,
        })
        if (localId !== undefined) note(localId)
        summary.groups.add(groupId)
        activity = Math.max(activity, event.createdAt)
        continue
      }
      const m: Message = event.data
      const mine = m.senderId === me
      const params = relayMessageParams(m, me, -groupId)
      // Group rows keep no recipient (0; the view shows null).
      params.recipientId = 0
      const localId = (mine ? linkPending(db, params) : undefined) ?? upsertRelayMessage(db, params)
      noteGroupMessage(db, groupId, m.id)
      note(localId)
      activity = Math.max(activity, m.createdAt)
      if (mine) sentByMe = true
      else if (event.type === 'message') {
        summary.received.set(key, Math.max(summary.received.get(key) ?? 0, m.id))
        if (localId > maxLocalIdBefore) summary.arrived.set(key, (summary.arrived.get(key) ?? 0) + 1)
      }
    }
    if (summary.applied === 0) return summary
    summary.messages.set(key, changed)
    if (activity > 0) touchConversation(db, key, activity)
    if (sentByMe) deleteLinkedSends(db)
    setLogCursor(db, groupId, cursor)
    if (options.receipts ?? true) queueDeliveredReceipts(db, summary.received, now)
    indexTextIfSmall(db)
    return summary
  })
}

function applyChange(db: LocalDb, me: number, groupId: number, u: GroupUpdate, now: number): void {
  const c = u.change
  switch (c.kind) {
    case 'title':
      setGroupFields(db, groupId, { title: c.title })
      break
    case 'avatar':
      setGroupFields(db, groupId, { avatar: c.avatar })
      break
    case 'members_added':
      for (const m of c.members) putMember(db, groupId, m)
      break
    case 'member_removed':
      dropMember(db, groupId, c.userId)
      break
    case 'role':
      // Handing over: the old owner becomes an admin (the relay says so only by the new owner's entry).
      if (c.role === 'owner')
        db.prepare(`update group_members set role = 'admin' where group_id = ? and role = 'owner'`).run(
          groupId,
        )
      setMemberRole(db, groupId, c.userId, c.role)
      break
    case 'deleted':
      // The log's last entry: the group stays here, read only (the feed's group_removed says the same).
      markLeft(db, groupId, now, 'deleted')
      return
  }
  recountGroup(db, groupId, me)
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
