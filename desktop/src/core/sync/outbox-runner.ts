import { EventEmitter } from 'node:events'
import { type BridgeError, isBridgeErrorCode, type Result } from '@parley/shared'
import type { LocalDb } from '../db/local-db'
import { hasReaction, messageRow } from '../db/messages'
import { ackOp, completeOp, confirmSent, failOp, markAttempt, nextQueued, rescheduleOp } from '../db/outbox'
import type { MessageRow, OutboxRow } from '../db/schema'
import { cursorOf } from '../db/small-tables'
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

export interface OutboxEvents {
  /** A message's look changed (sent, failed, change confirmed), in conversation `peerId`. */
  changed: [peerId: number, localId: number]
}

/**
 * Sends the outbox, oldest first, one op at a time, while the sync engine says it is online
 * (caught up, so the local copy reflects the relay before anything is resent). A transient
 * failure holds the queue with backoff; a final one marks the op failed and the queue moves on.
 */
export class OutboxRunner extends EventEmitter<OutboxEvents> {
  readonly #db: LocalDb
  readonly #me: number
  readonly #socket: RelayLink
  readonly #isOnline: () => boolean
  readonly #clock: () => number
  readonly #timing: Timing
  readonly #logger: Logger
  readonly #uploadImage: ImageUploader | undefined
  #running = false
  #again = false
  #closed = false
  #timer: NodeJS.Timeout | undefined
  #idle: Promise<void> = Promise.resolve()

  constructor(deps: {
    db: LocalDb
    me: number
    socket: RelayLink
    isOnline: () => boolean
    clock: () => number
    timing: Timing
    logger: Logger
    uploadImage?: ImageUploader
  }) {
    super()
    this.#uploadImage = deps.uploadImage
    this.#db = deps.db
    this.#me = deps.me
    this.#socket = deps.socket
    this.#isOnline = deps.isOnline
    this.#clock = deps.clock
    this.#timing = deps.timing
    this.#logger = deps.logger
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
    this.#db.prepare(`update outbox set next_attempt_at = 0 where state = 'queued'`).run()
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
      while (!this.#closed && this.#isOnline()) {
        const op = nextQueued(this.#db)
        if (!op) break
        const wait = op.next_attempt_at - this.#clock()
        if (wait > 0) {
          this.#timer = setTimeout(() => this.kick(), wait)
          break
        }
        const stop = await this.#process(op)
        if (stop) break
      }
    } catch (error) {
      this.#logger.error('outbox stopped on an unexpected error', { error: String(error) })
    } finally {
      this.#running = false
      if (this.#again && !this.#closed) {
        this.#again = false
        this.kick()
      }
    }
  }

  /** Returns true when the queue should wait (offline). */
  async #process(op: OutboxRow): Promise<boolean> {
    const db = this.#db
    if (!this.#socket.connected) return true
    const row = op.message_local_id === null ? undefined : messageRow(db, op.message_local_id)
    const notify = () => {
      if (op.message_local_id !== null) this.emit('changed', op.peer_id, op.message_local_id)
    }
    if (op.message_local_id !== null && !row) {
      completeOp(db, op.id)
      return false
    }
    let error: BridgeError
    switch (op.kind) {
      case 'send': {
        if (!row || row.server_id !== null) {
          // The feed already brought it back (a lost ack, answered by the catch-up).
          completeOp(db, op.id)
          notify()
          return false
        }
        let current = row
        if (row.image_local === 1) {
          // Not counted as an attempt: the relay cannot have the message before it has its picture.
          const uploaded = this.#uploadImage
            ? await this.#uploadImage(row)
            : ({ ok: false, error: { code: 'internal', message: 'No uploader' } } as const)
          if (!uploaded.ok) {
            error = uploaded.error
            break
          }
          const after = messageRow(db, row.local_id)
          if (!after || after.image_local === 1) return false
          current = after
          notify()
        }
        markAttempt(db, op.id)
        const result = await this.#socket.request('message', {
          clientId: current.client_id,
          recipientId: current.recipient_id,
          ...(current.text !== null && { text: current.text }),
          ...(current.image_id !== null && { imageId: current.image_id }),
        })
        if (result.ok) {
          confirmSent(db, op.id, current.local_id, result.value.message)
          notify()
          return false
        }
        error = result.error
        break
      }
      case 'edit':
      case 'delete':
      case 'react': {
        if (!row) return false
        if (row.server_id === null) {
          // Ops run in order, so the send came first and did not succeed: this cannot go either.
          failOp(db, op, {
            code: isBridgeErrorCode(row.failure_code) ? row.failure_code : 'not_found',
            message: 'The message was not sent, so it cannot be changed on the relay',
          })
          notify()
          return false
        }
        const payload = JSON.parse(op.payload) as { text?: string; emoji?: string; present?: boolean }
        if (op.kind === 'react') {
          const reactions = JSON.parse(row.reactions) as { emoji: string; userIds: number[] }[]
          if (hasReaction(reactions, payload.emoji ?? '', this.#me) === payload.present) {
            // The synced message shows it as wanted already: nothing to send.
            completeOp(db, op.id)
            notify()
            return false
          }
        }
        markAttempt(db, op.id)
        const result =
          op.kind === 'edit'
            ? await this.#socket.request('message_updated', { id: row.server_id, text: payload.text ?? '' })
            : op.kind === 'delete'
              ? await this.#socket.request('message_deleted', { id: row.server_id })
              : // The wanted state, not a toggle: a resend after a lost ack cannot undo itself.
                await this.#socket.request('reaction', {
                  messageId: row.server_id,
                  emoji: payload.emoji ?? '',
                  present: payload.present ?? true,
                })
        if (result.ok) {
          ackOp(db, op.id, result.value.seq, cursorOf(db))
          notify()
          return false
        }
        error = result.error
        break
      }
      case 'read':
      case 'delivered': {
        const { upTo } = JSON.parse(op.payload) as { upTo: number }
        markAttempt(db, op.id)
        const result = await this.#socket.request(op.kind, { with: op.peer_id, upTo })
        if (result.ok) {
          // A newer receipt may have been folded into this op while it was in flight.
          const current = db.prepare('select payload from outbox where id = ?').pluck().get(op.id) as
            | string
            | undefined
          if (current === undefined || (JSON.parse(current) as { upTo: number }).upTo <= upTo)
            completeOp(db, op.id)
          return false
        }
        error = result.error
        break
      }
    }
    if (error.code === 'offline') return true
    if (TRANSIENT.has(error.code)) {
      const attempts = op.attempts + 1
      rescheduleOp(
        db,
        op.id,
        this.#clock() + backoff(attempts, this.#timing.retryBaseMs, this.#timing.retryMaxMs),
        error,
      )
      this.#logger.info('outbox: will retry', { kind: op.kind, attempts, code: error.code })
      return false
    }
    this.#logger.warn('outbox: gave up on a change', {
      kind: op.kind,
      code: error.code,
      message: error.message,
    })
    failOp(db, op, error)
    notify()
    return false
  }
}
