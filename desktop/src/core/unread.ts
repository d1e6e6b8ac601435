import type { ConversationKey, UnreadCounts } from '@parley/shared'
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
  #unread = new Map<ConversationKey, number>()
  #stale: Set<ConversationKey> | 'all' = 'all'
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
      this.#unread = new Map(
        unreadCounts(account.db, account.me).conversations.map((c) => [c.conversation, c.count]),
      )
    } else {
      for (const key of this.#stale) {
        const count = unreadIn(
          account.db,
          account.me,
          key,
          conversationMarkers(account.db, key).own_read_up_to,
        )
        if (count > 0) this.#unread.set(key, count)
        else this.#unread.delete(key)
      }
    }
    this.#stale = new Set()
    const conversations = [...this.#unread]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([conversation, count]) => ({ conversation, count }))
    return { total: conversations.reduce((sum, c) => sum + c.count, 0), conversations }
  }

  /** A conversation's count is stale (read now, on the next `counts`). */
  stale(conversation: ConversationKey): void {
    if (this.#stale !== 'all') this.#stale.add(conversation)
  }

  /**
   * Marks conversations' counts stale and emits the new counts shortly after (a catch-up applies
   * many batches in a row; the badge needs the result, not every step).
   */
  changed(account: Account, keys: Iterable<ConversationKey>): void {
    for (const key of keys) this.stale(key)
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
