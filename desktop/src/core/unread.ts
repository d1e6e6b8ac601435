import type { UnreadCounts } from '@parley/shared'
import type { Account } from './account'
import { conversationMarkers } from './db/tables/conversations'
import { unreadIn } from './db/tables/messages'
import { unreadCounts } from './db/views/conversations'
import type { Emit } from './options'

/**
 * The signed-in account's unread counts per conversation, kept up to date one conversation at a
 * time, and told to the windows (`unread.changed`) when they change; the shell's badge listens.
 */
export class UnreadCounter {
  readonly #emit: Emit
  readonly #current: () => Account | null
  #unread = new Map<number, number>()
  #stale: Set<number> | 'all' = 'all'
  #timer: NodeJS.Timeout | undefined
  #last = ''

  constructor(emit: Emit, current: () => Account | null) {
    this.#emit = emit
    this.#current = current
  }

  /** Another account: every count is read again. */
  reset(): void {
    this.#stale = 'all'
  }

  /** Brings the counts of the conversations that changed up to date and returns all of them. */
  counts(account: Account): UnreadCounts {
    if (this.#stale === 'all') {
      this.#unread = new Map(unreadCounts(account.db).conversations.map((c) => [c.peerId, c.count]))
    } else {
      for (const peerId of this.#stale) {
        const count = unreadIn(account.db, peerId, conversationMarkers(account.db, peerId).own_read_up_to)
        if (count > 0) this.#unread.set(peerId, count)
        else this.#unread.delete(peerId)
      }
    }
    this.#stale = new Set()
    const conversations = [...this.#unread]
      .sort(([a], [b]) => a - b)
      .map(([peerId, count]) => ({ peerId, count }))
    return { total: conversations.reduce((sum, c) => sum + c.count, 0), conversations }
  }

  /** A conversation's count is stale (read now, on the next `counts`). */
  stale(peerId: number): void {
    if (this.#stale !== 'all') this.#stale.add(peerId)
  }

  /**
   * Marks conversations' counts stale and emits the new counts shortly after (a catch-up applies
   * many batches in a row; the badge needs the result, not every step).
   */
  changed(account: Account, peerIds: Iterable<number>): void {
    for (const id of peerIds) this.stale(id)
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined
      if (this.#current() === account) this.emit(account)
    }, 50)
  }

  /** Emits the unread counts when they changed (or always, with `force`), and returns them. */
  emit(account: Account, force = false): UnreadCounts {
    const counts = this.counts(account)
    const key = JSON.stringify(counts)
    if (force || key !== this.#last) {
      this.#last = key
      this.#emit('unread.changed', counts)
    }
    return counts
  }

  close(): void {
    clearTimeout(this.#timer)
  }
}
