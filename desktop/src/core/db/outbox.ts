import type { BridgeError } from '@parley/shared'
import type { LocalDb } from './local-db'
import { hasReaction, messageRow, withReaction } from './messages'
import { decodeOp, encodePayload } from './outbox-op'
import type { MessageRow, OutboxRow } from './schema'
import { insertOp } from './tables/outbox'

// The outbox: what this device did that the relay has not confirmed yet, in the order it was done.
// Sends, edits, deletes and reactions also change how their message looks until then (see
// messageViews); receipts are coalesced per conversation because only the latest matters.

function opsOf(db: LocalDb, localId: number): OutboxRow[] {
  return db.all(
    db.kysely.selectFrom('outbox').selectAll().where('message_local_id', '=', localId).orderBy('id'),
  )
}

/** A send the relay has certainly never seen: never tried, or refused. Such a message can still change freely. */
function unsentSend(ops: readonly OutboxRow[]): OutboxRow | undefined {
  return ops.find((op) => op.kind === 'send' && (op.attempts === 0 || op.state === 'failed'))
}

export function queueEdit(db: LocalDb, row: MessageRow, text: string, now: number): void {
  db.transaction(() => {
    const ops = opsOf(db, row.local_id)
    if (row.server_id === null && unsentSend(ops)) {
      // Not on the relay yet: the send will carry the new text (a send that may have reached the
      // relay is not rewritten, because a resend must repeat the text it had).
      db.prepare('update messages set text = ? where local_id = ?').run(text, row.local_id)
      return
    }
    const queued = ops.find((op) => op.kind === 'edit' && op.state === 'queued' && op.attempts === 0)
    if (queued) {
      db.prepare('update outbox set payload = ?, created_at = ? where id = ?').run(
        encodePayload({ kind: 'edit', text }),
        now,
        queued.id,
      )
      return
    }
    insertOp(db, { kind: 'edit', text }, row.peer_id, row.local_id, now)
  })
}

/** Returns `removed` when the message had never left this device and is simply gone. */
export function queueDelete(db: LocalDb, row: MessageRow, now: number): 'removed' | 'queued' {
  return db.transaction(() => {
    const ops = opsOf(db, row.local_id)
    if (row.server_id === null && unsentSend(ops)) {
      removeMessage(db, row.local_id)
      return 'removed'
    }
    // Changes still waiting would only be refused once the message is deleted.
    db.prepare(
      `delete from outbox where message_local_id = ? and kind in ('edit', 'react') and state != 'acked'
        and attempts = 0`,
    ).run(row.local_id)
    if (!ops.some((op) => op.kind === 'delete' && op.state !== 'failed'))
      insertOp(db, { kind: 'delete' }, row.peer_id, row.local_id, now)
    return 'queued'
  })
}

/**
 * Toggles the account's reaction as it currently shows. Queued as the state wanted (present or
 * not) rather than as a toggle, so a resend after a lost ack cannot undo itself.
 */
export function queueReaction(db: LocalDb, row: MessageRow, me: number, emoji: string, now: number): void {
  db.transaction(() => {
    const ops = opsOf(db, row.local_id)
    let reactions = JSON.parse(row.reactions) as { emoji: string; userIds: number[] }[]
    for (const entry of ops) {
      const op = decodeOp(entry)
      if (op.kind !== 'react' || entry.state === 'failed') continue
      reactions = withReaction(reactions, op.emoji, me, op.present)
    }
    const present = !hasReaction(reactions, emoji, me)
    const unsent = ops.find((entry) => {
      const op = decodeOp(entry)
      return op.kind === 'react' && entry.state === 'queued' && entry.attempts === 0 && op.emoji === emoji
    })
    // Toggled back before it went out: nothing to send.
    if (unsent) completeOp(db, unsent.id)
    else insertOp(db, { kind: 'react', emoji, present }, row.peer_id, row.local_id, now)
  })
}

export function removeMessage(db: LocalDb, localId: number): void {
  db.transaction(() => {
    db.prepare('delete from outbox where message_local_id = ?').run(localId)
    db.prepare('delete from messages where local_id = ?').run(localId)
  })
}

export function nextQueued(db: LocalDb): OutboxRow | undefined {
  return db.get(
    db.kysely.selectFrom('outbox').selectAll().where('state', '=', 'queued').orderBy('id').limit(1),
  )
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

/** The relay linked a send to its message; the feed will bring the same, this is just sooner. */
export function confirmSent(
  db: LocalDb,
  opId: number,
  localId: number,
  message: { id: number; createdAt: number },
): void {
  db.transaction(() => {
    const taken = db.prepare('select local_id from messages where server_id = ?').pluck().get(message.id)
    if (taken === undefined) {
      db.prepare(
        `update messages set server_id = ?, created_at = ?, send_state = 'sent', failure_code = null,
           failure_message = null where local_id = ? and server_id is null`,
      ).run(message.id, message.createdAt, localId)
    }
    completeOp(db, opId)
  })
}

export function rescheduleOp(db: LocalDb, id: number, at: number, error: BridgeError): void {
  db.prepare('update outbox set next_attempt_at = ?, error_code = ?, error_message = ? where id = ?').run(
    at,
    error.code,
    error.message,
    id,
  )
}

/** A failure that will not heal: the op waits for a retry or discard; receipts are just dropped. */
export function failOp(db: LocalDb, op: OutboxRow, error: BridgeError): void {
  db.transaction(() => {
    if (op.kind === 'read' || op.kind === 'delivered') {
      completeOp(db, op.id)
      return
    }
    db.prepare(`update outbox set state = 'failed', error_code = ?, error_message = ? where id = ?`).run(
      error.code,
      error.message,
      op.id,
    )
    if (op.kind === 'send' && op.message_local_id !== null) {
      db.prepare(
        `update messages set send_state = 'failed', failure_code = ?, failure_message = ? where local_id = ?`,
      ).run(error.code, error.message, op.message_local_id)
    }
  })
}

/** Queues a message's failed send or changes again, in their original order. */
export function retryMessage(db: LocalDb, localId: number): boolean {
  return db.transaction(() => {
    const result = db
      .prepare(
        `update outbox set state = 'queued', next_attempt_at = 0, error_code = null, error_message = null
         where message_local_id = ? and state = 'failed'`,
      )
      .run(localId)
    db.prepare(
      `update messages set send_state = 'pending', failure_code = null, failure_message = null
       where local_id = ? and send_state = 'failed'`,
    ).run(localId)
    return result.changes > 0
  })
}

/** Drops a message's failed changes; a message the relay never accepted goes entirely. Returns whether it is gone. */
export function discardFailed(db: LocalDb, localId: number): 'removed' | 'reverted' | 'nothing' {
  return db.transaction(() => {
    const row = messageRow(db, localId)
    if (!row) return 'nothing'
    if (row.server_id === null && row.send_state === 'failed') {
      removeMessage(db, localId)
      return 'removed'
    }
    const result = db
      .prepare(`delete from outbox where message_local_id = ? and state = 'failed'`)
      .run(localId)
    return result.changes > 0 ? 'reverted' : 'nothing'
  })
}
