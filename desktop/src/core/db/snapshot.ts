import {
  type ConversationKey,
  dmKey,
  groupKey,
  type Message,
  type SnapshotMarkers,
  type SyncSnapshot,
} from '@parley/shared'
import type { ApplySummary } from './apply'
import type { LocalDb } from './local-db'
import { updateProfile } from './tables/account'
import { contactRows, deleteContact, upsertContact } from './tables/contacts'
import { moveMarkers, touchConversation } from './tables/conversations'
import { groupRows, markLeft, noteGroupMessage, saveGroup } from './tables/groups'
import { linkPending, relayMessageParams, upsertRelayMessage } from './tables/messages'
import { deleteAckedUpTo, deleteLinkedSends } from './tables/outbox'
import { cursorOf, setCursor } from './tables/sync-state'
import { upsertUser } from './tables/users'

/**
 * Writes relay messages of one conversation (a snapshot's page, a page of older history) as
 * upserts by relay id, the way the feed does: a message this device sent and still waits for is
 * linked to its pending row. `conversationId` is the peer's id, or minus the group's.
 */
export function upsertPage(
  db: LocalDb,
  me: number,
  conversationId: number,
  messages: readonly Message[],
): void {
  for (const m of messages) {
    const params = relayMessageParams(m, me, conversationId)
    if (conversationId < 0) {
      // Group rows keep no recipient (0; the view shows null).
      params.recipientId = 0
      noteGroupMessage(db, -conversationId, m.id)
    }
    if (m.senderId !== me || linkPending(db, params) === undefined) upsertRelayMessage(db, params)
  }
}

function markers(db: LocalDb, key: ConversationKey, whose: 'own' | 'peer', m: SnapshotMarkers): void {
  moveMarkers(db, key, whose, m.deliveredUpTo, false)
  moveMarkers(db, key, whose, m.readUpTo, true)
}

/**
 * Applies a snapshot (GET /sync/snapshot) in one transaction and moves the feed cursor to its
 * cursor: the device is usable at once, and the feed continues from there. Each conversation with
 * older messages gets a backfill row (see sync/backfill.ts).
 *
 * `replacing`: this device had a store and its cursor fell below the relay's compacted floor. It
 * keeps its messages (the snapshot's are upserts) but drops contacts and groups the snapshot no
 * longer has (their removal events were compacted), and reads every conversation's history again,
 * so edits and deletes made while it was away show through.
 */
export function applySnapshot(
  db: LocalDb,
  me: number,
  snapshot: SyncSnapshot,
  now: number,
  options: { replacing: boolean },
): ApplySummary {
  return db.transaction(() => {
    upsertUser(db, snapshot.user)
    updateProfile(db, snapshot.user)
    for (const user of snapshot.users) upsertUser(db, user)
    for (const contact of snapshot.contacts) upsertContact(db, contact)

    const backfill = db.prepare(
      `insert into backfill (conversation, before_id, done) values (?, ?, ?)
       on conflict (conversation) do ${options.replacing ? 'update set before_id = excluded.before_id, done = excluded.done' : 'nothing'}`,
    )
    const summary: ApplySummary = {
      cursor: snapshot.cursor,
      applied: 0,
      messages: new Map(),
      receipts: new Set(),
      contactsChanged: true,
      profileChanged: true,
      received: new Map(),
      arrived: new Map(),
      groups: new Set(),
      groupsBehind: new Set(),
    }
    const page = (
      key: ConversationKey,
      conversationId: number,
      c: { messages: Message[]; hasMore: boolean },
    ) => {
      upsertPage(db, me, conversationId, c.messages)
      const newest = c.messages[0]
      if (newest) touchConversation(db, key, newest.createdAt)
      const oldest = c.messages.at(-1)
      if (oldest) backfill.run(key, oldest.id, c.hasMore ? 0 : 1)
      summary.messages.set(key, null)
      summary.receipts.add(key)
      summary.applied += c.messages.length
    }
    for (const c of snapshot.conversations) {
      const key = dmKey(c.peerId)
      page(key, c.peerId, c)
      markers(db, key, 'own', c.own)
      markers(db, key, 'peer', c.peer)
    }
    for (const g of snapshot.groups) {
      const key = groupKey(g.group.id)
      // The group as of the snapshot: its log continues after its head.
      saveGroup(db, me, g.group, g.group.headSeq)
      touchConversation(db, key, g.group.createdAt)
      page(key, -g.group.id, g)
      markers(db, key, 'own', g.own)
      markers(db, key, 'peer', g.everyone)
      summary.groups.add(g.group.id)
    }

    if (options.replacing) {
      const contacts = new Set(snapshot.contacts.map((c) => c.user.id))
      for (const row of contactRows(db)) if (!contacts.has(row.user_id)) deleteContact(db, row.user_id)
      const groups = new Set(snapshot.groups.map((g) => g.group.id))
      for (const row of groupRows(db)) {
        if (row.left_at === null && !groups.has(row.id)) {
          markLeft(db, row.id, now, 'removed')
          summary.groups.add(row.id)
        }
      }
    }
    deleteLinkedSends(db)
    if (snapshot.cursor > cursorOf(db)) {
      setCursor(db, snapshot.cursor)
      deleteAckedUpTo(db, snapshot.cursor)
    }
    return summary
  })
}
