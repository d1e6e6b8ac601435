import type { LocalDb } from '../local-db'
import type { ConversationRow } from '../schema'

// The `conversations` table: one row per peer, its last activity and its four receipt markers
// (message ids; 0 = none). Markers only move forward; reading implies delivery.

const EMPTY_MARKERS = {
  own_delivered_up_to: 0,
  own_read_up_to: 0,
  peer_delivered_up_to: 0,
  peer_read_up_to: 0,
}
export type Markers = typeof EMPTY_MARKERS

const TOUCH = `
  insert into conversations (peer_id, last_activity_at) values ($peerId, $at)
  on conflict (peer_id) do update set last_activity_at = max(last_activity_at, excluded.last_activity_at)`

export function touchConversation(db: LocalDb, peerId: number, at: number): void {
  db.prepare(TOUCH).run({ peerId, at })
}

const MOVE_MARKERS = `
  insert into conversations (peer_id, own_delivered_up_to, own_read_up_to, peer_delivered_up_to,
    peer_read_up_to) values ($peerId, $ownDelivered, $ownRead, $peerDelivered, $peerRead)
  on conflict (peer_id) do update set
    own_delivered_up_to = max(own_delivered_up_to, excluded.own_delivered_up_to),
    own_read_up_to = max(own_read_up_to, excluded.own_read_up_to),
    peer_delivered_up_to = max(peer_delivered_up_to, excluded.peer_delivered_up_to),
    peer_read_up_to = max(peer_read_up_to, excluded.peer_read_up_to)`

/** A receipt from the feed: the account's own (`own`) or the peer's, delivered or read up to `upTo`. */
export function moveMarkers(
  db: LocalDb,
  peerId: number,
  whose: 'own' | 'peer',
  upTo: number,
  read: boolean,
): void {
  const delivered = upTo
  const readUpTo = read ? upTo : 0
  db.prepare(MOVE_MARKERS).run({
    peerId,
    ownDelivered: whose === 'own' ? delivered : 0,
    ownRead: whose === 'own' ? readUpTo : 0,
    peerDelivered: whose === 'peer' ? delivered : 0,
    peerRead: whose === 'peer' ? readUpTo : 0,
  })
}

/** Moves the own read marker at once (the receipt itself goes through the outbox); false if it was there. */
export function moveOwnReadMarker(db: LocalDb, peerId: number, upTo: number): boolean {
  const result = db
    .prepare(
      `insert into conversations (peer_id, own_delivered_up_to, own_read_up_to) values ($peerId, $upTo, $upTo)
       on conflict (peer_id) do update set own_read_up_to = max(own_read_up_to, excluded.own_read_up_to),
         own_delivered_up_to = max(own_delivered_up_to, excluded.own_delivered_up_to)
       where own_read_up_to < excluded.own_read_up_to`,
    )
    .run({ peerId, upTo })
  return result.changes > 0
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

/** How far this account has told the relay it has the peer's messages (delivered or read). */
export function ownReceiptMarker(db: LocalDb, peerId: number): number {
  return (
    (db
      .prepare('select max(own_delivered_up_to, own_read_up_to) from conversations where peer_id = ?')
      .pluck()
      .get(peerId) as number | undefined) ?? 0
  )
}

export function conversationRow(db: LocalDb, peerId: number): ConversationRow | undefined {
  return db.get(db.kysely.selectFrom('conversations').selectAll().where('peer_id', '=', peerId))
}

/** Every conversation, most recently active first. */
export function conversationRows(db: LocalDb): ConversationRow[] {
  return db.all(
    db.kysely.selectFrom('conversations').selectAll().orderBy('last_activity_at', 'desc').orderBy('peer_id'),
  )
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
