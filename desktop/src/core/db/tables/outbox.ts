import type { BridgeError, ConversationKey } from '@parley/shared'
import type { LocalDb } from '../local-db'
import { encodePayload, type OutboxOp } from '../outbox-op'
import type { OutboxRow } from '../schema'

// The `outbox` table: what this device did that the relay has not confirmed yet, in the order it
// was done. Payloads are written and read only through outbox-op.ts.

/** Queues an op: the one insert into the outbox. `localId` is null for receipts (about a conversation). */
export function insertOp(
  db: LocalDb,
  op: OutboxOp,
  conversation: ConversationKey,
  localId: number | null,
  now: number,
): void {
  db.prepare(
    `insert into outbox (kind, conversation, message_local_id, payload, state, attempts, next_attempt_at,
       created_at) values ($kind, $conversation, $localId, $payload, 'queued', 0, 0, $now)`,
  ).run({ kind: op.kind, conversation, localId, payload: encodePayload(op), now })
}

/** Replaces a queued op's payload (a later receipt marker), and its time if given (a newer edit). */
export function setOpPayload(db: LocalDb, id: number, op: OutboxOp, now?: number): void {
  if (now === undefined) db.prepare('update outbox set payload = ? where id = ?').run(encodePayload(op), id)
  else
    db.prepare('update outbox set payload = ?, created_at = ? where id = ?').run(encodePayload(op), now, id)
}

export function opById(db: LocalDb, id: number): OutboxRow | undefined {
  return db.get(db.kysely.selectFrom('outbox').selectAll().where('id', '=', id))
}

/** A message's ops, oldest first. */
export function opsOf(db: LocalDb, localId: number): OutboxRow[] {
  return db.all(
    db.kysely.selectFrom('outbox').selectAll().where('message_local_id', '=', localId).orderBy('id'),
  )
}

/** The ops that change how these messages look (sends, edits, deletes, reactions), oldest first. */
export function messageOps(db: LocalDb, localIds: readonly number[]): OutboxRow[] {
  return db.all(
    db.kysely
      .selectFrom('outbox')
      .selectAll()
      .where('message_local_id', 'in', localIds)
      .where('kind', 'in', ['send', 'edit', 'delete', 'react'])
      .orderBy('id'),
  )
}

/** The queued receipt of a kind for a conversation (there is at most one: they are coalesced). */
export function queuedReceipt(db: LocalDb, kind: 'read' | 'delivered', conversation: ConversationKey) {
  return db
    .prepare(`select id, kind, payload from outbox where kind = ? and conversation = ? and state = 'queued'`)
    .get(kind, conversation) as Pick<OutboxRow, 'id' | 'kind' | 'payload'> | undefined
}

/** A group's delivered receipt queued after the time given (`?`): it is held. */
const HELD_RECEIPT = `kind = 'delivered' and conversation like 'group:%' and created_at > ?`

/**
 * The oldest queued op, passing over a group's delivered receipt queued after `holdSince` (it is
 * held: see Timing.groupDeliveredHoldMs). Receipts are markers, not messages, so what was queued
 * after one may go first.
 */
export function nextQueued(db: LocalDb, holdSince?: number): OutboxRow | undefined {
  if (holdSince === undefined) {
    return db.get(
      db.kysely.selectFrom('outbox').selectAll().where('state', '=', 'queued').orderBy('id').limit(1),
    )
  }
  return db
    .prepare(`select * from outbox where state = 'queued' and not (${HELD_RECEIPT}) order by id limit 1`)
    .get(holdSince) as OutboxRow | undefined
}

/** When the oldest group delivered receipt still held (queued after `holdSince`) was queued. */
export function oldestHeldReceipt(db: LocalDb, holdSince: number): number | undefined {
  const row = db
    .prepare(`select min(created_at) as at from outbox where state = 'queued' and ${HELD_RECEIPT}`)
    .get(holdSince) as { at: number | null } | undefined
  return row?.at ?? undefined
}

/** The connection is back: whatever waited out a backoff may go at once. */
export function resumeQueued(db: LocalDb): void {
  db.prepare(`update outbox set next_attempt_at = 0 where state = 'queued'`).run()
}

/** Counted before the attempt, so a crash mid-send still counts it (the relay may have it). */
export function markAttempt(db: LocalDb, id: number): void {
  db.prepare('update outbox set attempts = attempts + 1 where id = ?').run(id)
}

export function completeOp(db: LocalDb, id: number): void {
  db.prepare('delete from outbox where id = ?').run(id)
}

/** The relay did it; the overlay stays until the feed has applied event `seq`. */
export function ackOp(db: LocalDb, id: number, seq: number | null, cursor: number): void {
  if (seq === null || seq <= cursor) completeOp(db, id)
  else db.prepare(`update outbox set state = 'acked', ack_seq = ? where id = ?`).run(seq, id)
}

export function rescheduleOp(db: LocalDb, id: number, at: number, error: BridgeError): void {
  db.prepare(
    'update outbox set next_attempt_at = $at, error_code = $code, error_message = $message where id = $id',
  ).run({ id, at, code: error.code, message: error.message })
}

export function markOpFailed(db: LocalDb, id: number, error: BridgeError): void {
  db.prepare(
    `update outbox set state = 'failed', error_code = $code, error_message = $message where id = $id`,
  ).run({ id, code: error.code, message: error.message })
}

/** A message's failed ops are queued again; returns how many. */
export function requeueFailed(db: LocalDb, localId: number): number {
  return db
    .prepare(
      `update outbox set state = 'queued', next_attempt_at = 0, error_code = null, error_message = null
       where message_local_id = ? and state = 'failed'`,
    )
    .run(localId).changes
}

/** Drops a message's failed ops; returns how many. */
export function deleteFailed(db: LocalDb, localId: number): number {
  return db.prepare(`delete from outbox where message_local_id = ? and state = 'failed'`).run(localId).changes
}

export function deleteOpsOf(db: LocalDb, localId: number): void {
  db.prepare('delete from outbox where message_local_id = ?').run(localId)
}

/** Changes still waiting that never went out (a delete makes them pointless). */
export function deleteUnsentChanges(db: LocalDb, localId: number): void {
  db.prepare(
    `delete from outbox where message_local_id = ? and kind in ('edit', 'react') and state != 'acked'
      and attempts = 0`,
  ).run(localId)
}

/** A send whose ack was lost is done once its message came back through the feed. */
export function deleteLinkedSends(db: LocalDb): void {
  db.prepare(
    `delete from outbox where kind = 'send' and message_local_id in
      (select local_id from messages where server_id is not null and local_id = outbox.message_local_id)`,
  ).run()
}

/** Changes the relay acknowledged stop overlaying their message once the feed caught up with them. */
export function deleteAckedUpTo(db: LocalDb, cursor: number): void {
  db.prepare(`delete from outbox where state = 'acked' and ack_seq <= ?`).run(cursor)
}
