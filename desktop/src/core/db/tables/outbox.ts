import type { LocalDb } from '../local-db'
import { encodePayload, type OutboxOp } from '../outbox-op'
import type { OutboxRow } from '../schema'

/** Queues an op: the one insert into the outbox. `localId` is null for receipts (about a conversation). */
export function insertOp(
  db: LocalDb,
  op: OutboxOp,
  peerId: number,
  localId: number | null,
  now: number,
): void {
  db.prepare(
    `insert into outbox (kind, peer_id, message_local_id, payload, state, attempts, next_attempt_at, created_at)
     values ($kind, $peerId, $localId, $payload, 'queued', 0, 0, $now)`,
  ).run({ kind: op.kind, peerId, localId, payload: encodePayload(op), now })
}

/** Replaces a queued op's payload (a newer text, a later receipt marker). */
export function setOpPayload(db: LocalDb, id: number, op: OutboxOp): void {
  db.prepare('update outbox set payload = ? where id = ?').run(encodePayload(op), id)
}

export function opById(db: LocalDb, id: number): OutboxRow | undefined {
  return db.get(db.kysely.selectFrom('outbox').selectAll().where('id', '=', id))
}
