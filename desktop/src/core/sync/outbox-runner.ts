import { EventEmitter } from 'node:events'
import {
  type BridgeError,
  type ConversationKey,
  isBridgeErrorCode,
  parseConversationKey,
  type Reaction,
  type Result,
} from '@parley/shared'
import { confirmSent, failOp } from '../db/local-changes'
import type { LocalDb } from '../db/local-db'
import { decodeOp, type OutboxOpOf } from '../db/outbox-op'
import { hasReaction } from '../db/reactions'
import type { MessageRow, OutboxRow } from '../db/schema'
import { messageRow, relayMessageParams, upsertRelayMessage } from '../db/tables/messages'
import {
  ackOp,
  completeOp,
  markAttempt,
  nextQueued,
  oldestHeldReceipt,
  opById,
  rescheduleOp,
  resumeQueued,
} from '../db/tables/outbox'
import { cursorOf } from '../db/tables/sync-state'
import { backoff, type Logger, type Timing } from '../logger'
import type { RelayLink } from '../net/relay-socket'

/** Failures that heal by themselves: the op waits and is tried again. Anything else is final. */
const TRANSIENT = new Set<BridgeError['code']>([
  'network',
  'offline',
  'rate_limited',
  'shutting_down',
  'internal_error',
  'unauthorized',
])

/**
 * Uploads the picture of a message written here (its bytes are in the media cache) and records the
 * relay's image on the message. The relay refuses some files for good (`unsupported_image`,
 * `invalid_image`, `image_dimensions_too_large`, `image_too_large`): those end the send as failed.
 */
export type ImageUploader = (row: MessageRow) => Promise<Result<null>>

/** What a message written here says: a forward names its original (the relay copies it), else its own content. */
function sendContent(row: MessageRow) {
  if (row.forward_of !== null) return { forwardOf: row.forward_of }
  const fileId = row.file === null ? undefined : (JSON.parse(row.file) as { id?: unknown }).id
  // A voice message's recording is its file (uploaded first): it goes as the voice's fileId.
  const voice =
    row.voice === null ? null : (JSON.parse(row.voice) as { durationMs: number; waveform: number[] })
  return {
    ...(row.text !== null && { text: row.text }),
    ...(row.image_id !== null && { imageId: row.image_id }),
    ...(typeof fileId === 'string' &&
      (voice ? { voice: { fileId, durationMs: voice.durationMs, waveform: voice.waveform } } : { fileId })),
  }
}

/** How one op went: done quietly, done with a message's look changed, or a failure to handle. */
type Outcome = 'done' | 'changed' | BridgeError

export interface OutboxEvents {
  /** A message's look changed (sent, failed, change confirmed), in a conversation. */
  changed: [conversation: ConversationKey, localId: number]
}

export interface OutboxRunnerDeps {
  db: LocalDb
  me: number
  socket: RelayLink
  isOnline: () => boolean
  clock: () => number
  timing: Timing
  logger: Logger
  uploadImage?: ImageUploader
  /** Uploads the file of a message written here (its bytes are in the account's folder). */
  uploadFile?: ImageUploader
  /** POST /messages/:id/hide (delete for me): the seq of its `message_hidden`, null when hidden already. */
  hide?: (id: number) => Promise<Result<{ seq: number | null }>>
}

/**
 * Sends the outbox, oldest first, one op at a time, while the sync engine says it is online
 * (caught up, so the local copy reflects the relay before anything is resent). A transient
 * failure holds the queue with backoff; a final one marks the op failed and the queue moves on.
 */
export class OutboxRunner extends EventEmitter<OutboxEvents> {
  readonly #deps: OutboxRunnerDeps
  #running = false
  #again = false
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #idle: Promise<void> = Promise.resolve()

  constructor(deps: OutboxRunnerDeps) {
    super()
    this.#deps = deps
  }

  /** Look at the queue now (something was queued, or the connection came back). */
  kick(): void {
    if (this.#closed) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#idle = this.#run()
  }

  /** The connection is back: whatever waited out a backoff may go at once. */
  resumeAll(): void {
    resumeQueued(this.#deps.db)
    this.kick()
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    await this.#idle
  }

  async #run(): Promise<void> {
    this.#running = true
    clearTimeout(this.#timer)
    try {
      while (!this.#closed && this.#deps.isOnline()) {
        const now = this.#deps.clock()
        const holdSince = now - this.#deps.timing.groupDeliveredHoldMs
        const op = nextQueued(this.#deps.db, holdSince)
        if (!op) {
          // Only held receipts left (or nothing): look again when the oldest is due.
          const held = oldestHeldReceipt(this.#deps.db, holdSince)
          if (held !== undefined) {
            const wait = held + this.#deps.timing.groupDeliveredHoldMs - now
            this.#timer = setTimeout(() => this.kick(), Math.max(1, wait))
          }
          break
        }
        const wait = op.next_attempt_at - now
        if (wait > 0) {
          this.#timer = setTimeout(() => this.kick(), wait)
          break
        }
        const stop = await this.#process(op)
        if (stop) break
      }
    } catch (error) {
      this.#deps.logger.error('outbox stopped on an unexpected error', { error: String(error) })
    } finally {
      this.#running = false
      if (this.#again && !this.#closed) {
        this.#again = false
        this.kick()
      }
    }
  }

  /** Returns true when the queue should wait (offline). */
  async #process(entry: OutboxRow): Promise<boolean> {
    const db = this.#deps.db
    if (!this.#deps.socket.connected) return true
    const localId = entry.message_local_id
    const row = localId === null ? undefined : messageRow(db, localId)
    if (localId !== null && !row) {
      completeOp(db, entry.id)
      return false
    }
    const op = decodeOp(entry)
    const outcome =
      op.kind === 'send'
        ? await this.#send(entry, row)
        : op.kind === 'read' || op.kind === 'delivered'
          ? await this.#receipt(entry, op)
          : op.kind === 'hide'
            ? await this.#hide(entry, row)
            : row && (await this.#change(entry, op, row))
    if (outcome === undefined || outcome === 'done') return false
    if (outcome === 'changed') {
      this.#notify(entry)
      return false
    }
    return this.#failed(entry, outcome)
  }

  #notify(entry: OutboxRow): void {
    if (entry.message_local_id !== null) this.emit('changed', entry.conversation, entry.message_local_id)
  }

  /** A message written here goes to the relay, after its picture if it has one. */
  async #send(entry: OutboxRow, row: MessageRow | undefined): Promise<Outcome> {
    const db = this.#deps.db
    if (!row || row.server_id !== null) {
      // The feed already brought it back (a lost ack, answered by the catch-up).
      completeOp(db, entry.id)
      return 'changed'
    }
    let current = row
    if (row.image_local === 1) {
      // Not counted as an attempt: the relay cannot have the message before it has its picture.
      const uploaded = this.#deps.uploadImage
        ? await this.#deps.uploadImage(row)
        : ({ ok: false, error: { code: 'internal', message: 'No uploader' } } as const)
      if (!uploaded.ok) return uploaded.error
      const after = messageRow(db, row.local_id)
      if (!after || after.image_local === 1) return 'done'
      current = after
      this.#notify(entry)
    }
    if (current.file_local === 1) {
      const uploaded = this.#deps.uploadFile
        ? await this.#deps.uploadFile(current)
        : ({ ok: false, error: { code: 'internal', message: 'No uploader' } } as const)
      if (!uploaded.ok) return uploaded.error
      const after = messageRow(db, row.local_id)
      if (!after || after.file_local === 1) return 'done'
      current = after
      this.#notify(entry)
    }
    markAttempt(db, entry.id)
    const result = await this.#deps.socket.request('message', {
      clientId: current.client_id,
      ...(current.conversation_id < 0
        ? { groupId: -current.conversation_id }
        : { recipientId: current.recipient_id }),
      ...sendContent(current),
      ...(current.reply_to_id !== null && { replyToId: current.reply_to_id }),
    })
    if (!result.ok) return result.error
    confirmSent(db, entry.id, current.local_id, result.value.message)
    return 'changed'
  }

  /** An edit, delete or reaction of a message the relay has. */
  async #change(
    entry: OutboxRow,
    op: OutboxOpOf<'edit' | 'delete' | 'react'>,
    row: MessageRow,
  ): Promise<Outcome> {
    const db = this.#deps.db
    if (row.server_id === null) {
      // Ops run in order, so the send came first and did not succeed: this cannot go either.
      failOp(db, entry, {
        code: isBridgeErrorCode(row.failure_code) ? row.failure_code : 'not_found',
        message: 'The message was not sent, so it cannot be changed on the relay',
      })
      return 'changed'
    }
    if (op.kind === 'react') {
      const reactions = JSON.parse(row.reactions) as Reaction[]
      if (hasReaction(reactions, op.emoji, this.#deps.me) === op.present) {
        // The synced message shows it as wanted already: nothing to send.
        completeOp(db, entry.id)
        return 'changed'
      }
    }
    markAttempt(db, entry.id)
    const id = row.server_id
    const result =
      op.kind === 'edit'
        ? await this.#deps.socket.request('message_updated', { id, text: op.text })
        : op.kind === 'delete'
          ? await this.#deps.socket.request('message_deleted', { id })
          : await this.#deps.socket.request('reaction', {
              messageId: id,
              emoji: op.emoji,
              present: op.present,
            })
    if (!result.ok) return result.error
    if (row.conversation_id < 0) {
      // A group's changes come back through its log, not the feed: the ack's message is the state.
      db.transaction(() => {
        const params = relayMessageParams(result.value.message, this.#deps.me, row.conversation_id)
        params.recipientId = 0
        upsertRelayMessage(db, params)
        completeOp(db, entry.id)
      })
      return 'changed'
    }
    ackOp(db, entry.id, result.value.seq, cursorOf(db))
    return 'changed'
  }

  /** Delete for me: the message is hidden here already; the relay tells this account's other devices. */
  async #hide(entry: OutboxRow, row: MessageRow | undefined): Promise<Outcome> {
    const db = this.#deps.db
    if (!row || row.server_id === null || !this.#deps.hide) {
      // Never reached the relay (its send failed): there is nothing to hide there.
      completeOp(db, entry.id)
      return 'done'
    }
    markAttempt(db, entry.id)
    const result = await this.#deps.hide(row.server_id)
    if (!result.ok && result.error.code === 'message_not_found') {
      completeOp(db, entry.id)
      return 'done'
    }
    if (!result.ok) return result.error
    if (result.value.seq === null) completeOp(db, entry.id)
    else ackOp(db, entry.id, result.value.seq, cursorOf(db))
    return 'done'
  }

  /** A delivered or read marker for a conversation. */
  async #receipt(entry: OutboxRow, op: OutboxOpOf<'read' | 'delivered'>): Promise<Outcome> {
    const db = this.#deps.db
    // Receipts go to the relay per person, or per group.
    const ref = parseConversationKey(entry.conversation)
    if (ref === null) {
      completeOp(db, entry.id)
      return 'done'
    }
    markAttempt(db, entry.id)
    const result = await this.#deps.socket.request(
      op.kind,
      ref.kind === 'dm' ? { with: ref.id, upTo: op.upTo } : { group: ref.id, upTo: op.upTo },
    )
    if (!result.ok && ref.kind === 'group' && result.error.code === 'group_not_found') {
      // Left or removed meanwhile: nothing to tell.
      completeOp(db, entry.id)
      return 'done'
    }
    if (!result.ok) return result.error
    // A newer receipt may have been folded into this op while it was in flight.
    const current = opById(db, entry.id)
    const now = current && decodeOp(current)
    if (!now || now.kind !== op.kind || now.upTo <= op.upTo) completeOp(db, entry.id)
    return 'done'
  }

  /** Returns true when the queue should wait (offline). */
  #failed(entry: OutboxRow, error: BridgeError): boolean {
    if (error.code === 'offline') return true
    if (TRANSIENT.has(error.code)) {
      const attempts = entry.attempts + 1
      rescheduleOp(
        this.#deps.db,
        entry.id,
        this.#deps.clock() + backoff(attempts, this.#deps.timing.retryBaseMs, this.#deps.timing.retryMaxMs),
        error,
      )
      this.#deps.logger.info('outbox: will retry', { kind: entry.kind, attempts, code: error.code })
      return false
    }
    this.#deps.logger.warn('outbox: gave up on a change', {
      kind: entry.kind,
      code: error.code,
      message: error.message,
    })
    failOp(this.#deps.db, entry, error)
    this.#notify(entry)
    return false
  }
}
