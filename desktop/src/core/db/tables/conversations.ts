import type { ConversationKey } from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { ConversationRow } from '../schema'

// The `conversations` table: one row per conversation (by key), its last activity and its four
// receipt markers (message ids; 0 = none): the account's own (`own`) and the other side's (`peer`).
// Markers only move forward; reading implies delivery.

const EMPTY_MARKERS = {
  own_delivered_up_to: 0,
  own_read_up_to: 0,
  peer_delivered_up_to: 0,
  peer_read_up_to: 0,
}
export type Markers = typeof EMPTY_MARKERS

const TOUCH = `
  insert into conversations (key, last_activity_at) values ($conversation, $at)
  on conflict (key) do update set last_activity_at = max(last_activity_at, excluded.last_activity_at)`

export function touchConversation(db: LocalDb, conversation: ConversationKey, at: number): void {
  db.prepare(TOUCH).run({ conversation, at })
}

const MOVE_MARKERS = `
  insert into conversations (key, own_delivered_up_to, own_read_up_to, peer_delivered_up_to,
    peer_read_up_to) values ($conversation, $ownDelivered, $ownRead, $peerDelivered, $peerRead)
  on conflict (key) do update set
    own_delivered_up_to = max(own_delivered_up_to, excluded.own_delivered_up_to),
    own_read_up_to = max(own_read_up_to, excluded.own_read_up_to),
    peer_delivered_up_to = max(peer_delivered_up_to, excluded.peer_delivered_up_to),
    peer_read_up_to = max(peer_read_up_to, excluded.peer_read_up_to)`

/** A receipt from the feed: the account's own (`own`) or the other side's, delivered or read up to `upTo`. */
export function moveMarkers(
  db: LocalDb,
  conversation: ConversationKey,
  whose: 'own' | 'peer',
  upTo: number,
  read: boolean,
): void {
  const delivered = upTo
  const readUpTo = read ? upTo : 0
  db.prepare(MOVE_MARKERS).run({
    conversation,
    ownDelivered: whose === 'own' ? delivered : 0,
    ownRead: whose === 'own' ? readUpTo : 0,
    peerDelivered: whose === 'peer' ? delivered : 0,
    peerRead: whose === 'peer' ? readUpTo : 0,
  })
}

/** Moves the own read marker at once (the receipt itself goes through the outbox); false if it was there. */
export function moveOwnReadMarker(db: LocalDb, conversation: ConversationKey, upTo: number): boolean {
  const result = db
    .prepare(
      `insert into conversations (key, own_delivered_up_to, own_read_up_to) values ($conversation, $upTo, $upTo)
       on conflict (key) do update set own_read_up_to = max(own_read_up_to, excluded.own_read_up_to),
         own_delivered_up_to = max(own_delivered_up_to, excluded.own_delivered_up_to)
       where own_read_up_to < excluded.own_read_up_to`,
    )
    .run({ conversation, upTo })
  return result.changes > 0
}

export function conversationMarkers(db: LocalDb, conversation: ConversationKey): Markers {
  return (
    db.get(
      db.kysely
        .selectFrom('conversations')
        .select(['own_delivered_up_to', 'own_read_up_to', 'peer_delivered_up_to', 'peer_read_up_to'])
        .where('key', '=', conversation),
    ) ?? EMPTY_MARKERS
  )
}

/** How far this account has told the relay it has the others' messages (delivered or read). */
export function ownReceiptMarker(db: LocalDb, conversation: ConversationKey): number {
  return (
    (db
      .prepare('select max(own_delivered_up_to, own_read_up_to) from conversations where key = ?')
      .pluck()
      .get(conversation) as number | undefined) ?? 0
  )
}

export function conversationRow(db: LocalDb, conversation: ConversationKey): ConversationRow | undefined {
  return db.get(db.kysely.selectFrom('conversations').selectAll().where('key', '=', conversation))
}

/** Every conversation, most recently active first. */
export function conversationRows(db: LocalDb): ConversationRow[] {
  return db.all(
    db.kysely.selectFrom('conversations').selectAll().orderBy('last_activity_at', 'desc').orderBy('key'),
  )
}

/** The most recently active conversation, if any. */
export function mostRecentConversation(db: LocalDb): ConversationKey | undefined {
  return db.get(
    db.kysely
      .selectFrom('conversations')
      .select('key')
      .orderBy('last_activity_at', 'desc')
      .orderBy('key')
      .limit(1),
  )?.key
}
