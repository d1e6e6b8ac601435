import type { BridgeError, ConversationKey, Reaction } from '@parley/shared'
import { conversationKeyOf } from './conversation-id'
import type { LocalDb } from './local-db'
import { decodeOp } from './outbox-op'
import { hasReaction, withReaction } from './reactions'
import type { MessageRow, OutboxRow } from './schema'
import { touchConversation } from './tables/conversations'
import {
  deleteMessageRow,
  hideRows,
  markFailed,
  markPendingAgain,
  markSent,
  messageRow,
  setText,
} from './tables/messages'
import {
  completeOp,
  deleteFailed,
  deleteOpsOf,
  deleteUnsentChanges,
  insertOp,
  markOpFailed,
  opsOf,
  queuedReceipt,
  requeueFailed,
  setOpPayload,
} from './tables/outbox'
import { insertPendingRow, type PendingMessage } from './tables/pending-messages'
import { indexTextIfSmall } from './text-index'

// What this device does before the relay confirms it, across tables: a message written (pending,
// with its send queued), changes queued in the outbox, and what their outcomes do to the message.
// Sends, edits, deletes and reactions change how their message looks until the feed brings them
// back (see views/messages.ts); receipts are coalesced per conversation because only the latest matters.

/** Writes a message at once, as pending, with its send queued in the outbox (one transaction). */
export function insertPendingMessage(db: LocalDb, input: PendingMessage): number {
  return db.transaction(() => {
    const localId = insertPendingRow(db, input)
    touchConversation(db, input.conversation, input.now)
    insertOp(db, { kind: 'send' }, input.conversation, localId, input.now)
    indexTextIfSmall(db)
    return localId
  })
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
      setText(db, row.local_id, text)
      return
    }
    const queued = ops.find((op) => op.kind === 'edit' && op.state === 'queued' && op.attempts === 0)
    if (queued) setOpPayload(db, queued.id, { kind: 'edit', text }, now)
    else insertOp(db, { kind: 'edit', text }, conversationKeyOf(row.conversation_id), row.local_id, now)
  })
}

/**
 * Deletes a message for everyone (`delete`) or for this account only (`hide`: it leaves this
 * device's views at once, and the relay tells the account's other devices). Its edits and
 * reactions still waiting go: they would only be refused, or change what nobody here sees. Returns
 * `removed` when the message had never left this device and is simply gone.
 */
export function queueRemoval(
  db: LocalDb,
  row: MessageRow,
  kind: 'delete' | 'hide',
  now: number,
): 'removed' | 'queued' {
  return db.transaction(() => {
    const ops = opsOf(db, row.local_id)
    if (row.server_id === null && unsentSend(ops)) {
      removeMessage(db, row.local_id)
      return 'removed'
    }
    deleteUnsentChanges(db, row.local_id)
    if (kind === 'hide') hideRows(db, { localId: row.local_id })
    if (!ops.some((op) => op.kind === kind && op.state !== 'failed'))
      insertOp(db, { kind }, conversationKeyOf(row.conversation_id), row.local_id, now)
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
    let reactions = JSON.parse(row.reactions) as Reaction[]
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
    else
      insertOp(
        db,
        { kind: 'react', emoji, present },
        conversationKeyOf(row.conversation_id),
        row.local_id,
        now,
      )
  })
}

/** Queues a receipt, or moves the queued one for that conversation forward (only the latest matters). */
export function coalesceReceipt(
  db: LocalDb,
  kind: 'read' | 'delivered',
  conversation: ConversationKey,
  upTo: number,
  now: number,
): void {
  const queued = queuedReceipt(db, kind, conversation)
  if (!queued) {
    insertOp(db, { kind, upTo }, conversation, null, now)
    return
  }
  const current = decodeOp(queued)
  if ((current.kind === 'read' || current.kind === 'delivered') && current.upTo < upTo) {
    setOpPayload(db, queued.id, { kind, upTo })
  }
}

function removeMessage(db: LocalDb, localId: number): void {
  db.transaction(() => {
    deleteOpsOf(db, localId)
    deleteMessageRow(db, localId)
  })
}

/** The relay linked a send to its message; the feed will bring the same, this is just sooner. */
export function confirmSent(
  db: LocalDb,
  opId: number,
  localId: number,
  message: { id: number; createdAt: number },
): void {
  db.transaction(() => {
    markSent(db, localId, message)
    completeOp(db, opId)
  })
}

/** A failure that will not heal: the op waits for a retry or discard; receipts are just dropped. */
export function failOp(db: LocalDb, op: OutboxRow, error: BridgeError): void {
  db.transaction(() => {
    if (op.kind === 'read' || op.kind === 'delivered') {
      completeOp(db, op.id)
      return
    }
    markOpFailed(db, op.id, error)
    if (op.kind === 'send' && op.message_local_id !== null) markFailed(db, op.message_local_id, error)
  })
}

/** Queues a message's failed send or changes again, in their original order. */
export function retryMessage(db: LocalDb, localId: number): boolean {
  return db.transaction(() => {
    const requeued = requeueFailed(db, localId)
    markPendingAgain(db, localId)
    return requeued > 0
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
    return deleteFailed(db, localId) > 0 ? 'reverted' : 'nothing'
  })
}
