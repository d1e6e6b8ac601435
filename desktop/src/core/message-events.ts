import type { ConversationKey, MessageView } from '@parley/shared'
import type { Account } from './account'
import { conversationKeyOf } from './db/conversation-id'
import type { MessageRow } from './db/schema'
import { conversationMarkers, conversationRow } from './db/tables/conversations'
import { messageRowsByLocalIds, replyRowsTo } from './db/tables/messages'
import { conversationView } from './db/views/conversations'
import { messageViews } from './db/views/messages'
import type { Emit } from './options'

// How changes reach the windows: as deltas. A message is told (`messages.changed`) when its look
// changed since it was last told, a conversation's markers (`receipts.changed`) and its chat-list
// row (`conversations.changed`) likewise. One change can be seen from several places (the
// handler that wrote it, the outbox's ack, the feed's echo of the same message): whichever comes
// second finds nothing new to tell.

/** How many messages' last told looks are remembered: several screenfuls, a few hundred kB at most. */
const REMEMBERED = 2000

/** A message's look without its ticks, which follow the markers (`receipts.changed`), not the message. */
function lookOf(view: MessageView): string {
  const ticks = view.state === 'delivered' || view.state === 'read'
  return JSON.stringify(ticks ? { ...view, state: view.mine ? 'sent' : 'delivered' } : view)
}

/** Tells the windows what changed, and only that; one per core, forgetting on a change of account. */
export class ChangeEvents {
  readonly #emit: Emit
  /** Per message (local id): its conversation and the look last told. */
  #told = new Map<number, { conversation: ConversationKey; look: string }>()
  /** Per conversation: the markers and the chat-list row last told. */
  #markers = new Map<ConversationKey, string>()
  #rows = new Map<ConversationKey, string>()

  constructor(emit: Emit) {
    this.#emit = emit
  }

  /** Another account is signed in: nothing it has was told yet. */
  reset(): void {
    this.#told.clear()
    this.#markers.clear()
    this.#rows.clear()
  }

  /**
   * These messages of conversation `conversation` may have changed: tells those whose look did, and
   * those no longer stored as removed (with `removedLocalIds`); then the conversation's row.
   */
  messages(
    account: Account,
    conversation: ConversationKey,
    localIds: readonly number[],
    removedLocalIds: number[] = [],
  ) {
    this.#tellMessages(account, conversation, localIds, removedLocalIds)
    this.conversations(account, [conversation])
  }

  /** A message changed here (something was queued): the outbox runs, and the windows see it. */
  written(account: Account, row: MessageRow): MessageView {
    account.kickOutbox()
    this.messages(account, conversationKeyOf(row.conversation_id), [row.local_id])
    return account.messages.view(row.local_id)
  }

  /** A message that never left this device is gone: its pinned picture goes, and the UI drops it. */
  removedLocally(account: Account, row: MessageRow): null {
    if (row.image_local === 1 && row.image_id !== null) account.releaseLocalImage(row.image_id)
    if (row.file_local === 1 && row.file !== null) {
      account.files.cancel(row.local_id)
      void account.files.drop((JSON.parse(row.file) as { id: string }).id).catch(() => undefined)
    }
    this.messages(account, conversationKeyOf(row.conversation_id), [], [row.local_id])
    return null
  }

  /**
   * What a batch of feed events changed: per conversation the messages (null: too many to list, a
   * long catch-up, so the windows reread), the conversations whose markers moved, then the rows
   * of all of them in one event.
   */
  applied(
    account: Account,
    messages: ReadonlyMap<ConversationKey, ReadonlySet<number> | null>,
    receipts: ReadonlySet<ConversationKey>,
  ) {
    for (const [conversation, localIds] of messages) {
      if (localIds === null) this.#reload(conversation)
      else this.#tellMessages(account, conversation, [...localIds], [])
    }
    this.#tellReceipts(account, receipts)
    this.conversations(account, [...messages.keys(), ...receipts])
  }

  /** Conversations whose receipt markers may have moved: tells the markers that did, and the rows. */
  receipts(account: Account, keys: readonly ConversationKey[]): void {
    this.#tellReceipts(account, keys)
    this.conversations(account, keys)
  }

  #reload(conversation: ConversationKey): void {
    // What the windows hold now comes from their reread, not from what was told.
    for (const [localId, told] of this.#told)
      if (told.conversation === conversation) this.#told.delete(localId)
    this.#emit('messages.changed', { conversation, messages: [], removedLocalIds: [], reload: true })
  }

  #tellReceipts(account: Account, keys: Iterable<ConversationKey>): void {
    for (const conversation of keys) {
      const m = conversationMarkers(account.db, conversation)
      const markers = {
        conversation,
        deliveredUpTo: Math.max(m.peer_delivered_up_to, m.peer_read_up_to),
        readUpTo: m.peer_read_up_to,
        ownReadUpTo: m.own_read_up_to,
      }
      const key = JSON.stringify(markers)
      if (this.#markers.get(conversation) === key) continue
      this.#markers.set(conversation, key)
      this.#emit('receipts.changed', markers)
    }
  }

  /** Conversations whose chat-list row may have changed: tells the rows that did, in one event. */
  conversations(account: Account, keys: Iterable<ConversationKey>): void {
    const changed = []
    for (const conversation of new Set(keys)) {
      const row = conversationRow(account.db, conversation)
      if (!row) continue
      const view = conversationView(account.db, account.me, row)
      const key = JSON.stringify(view)
      if (this.#rows.get(conversation) === key) continue
      this.#rows.set(conversation, key)
      changed.push(view)
    }
    if (changed.length > 0) this.#emit('conversations.changed', { conversations: changed })
  }

  #tellMessages(
    account: Account,
    conversation: ConversationKey,
    localIds: readonly number[],
    removedLocalIds: readonly number[],
  ): void {
    const rows = messageRowsByLocalIds(account.db, localIds)
    const stored = new Set(rows.map((r) => r.local_id))
    // A reply's quote follows its original (edited, deleted, hidden): told again when its look changed.
    for (const reply of replyRowsTo(account.db, localIds)) if (!stored.has(reply.local_id)) rows.push(reply)
    const removed = [...removedLocalIds, ...localIds.filter((id) => !stored.has(id))]
    for (const id of removed) this.#told.delete(id)
    const messages = messageViews(account.db, account.me, rows).filter((view) => {
      const look = lookOf(view)
      if (this.#told.get(view.localId)?.look === look) return false
      // Re-inserted, so the oldest told come first when the memory is full.
      this.#told.delete(view.localId)
      this.#told.set(view.localId, { conversation, look })
      return true
    })
    while (this.#told.size > REMEMBERED) {
      const oldest = this.#told.keys().next().value
      if (oldest === undefined) break
      this.#told.delete(oldest)
    }
    if (messages.length === 0 && removed.length === 0) return
    this.#emit('messages.changed', { conversation, messages, removedLocalIds: removed, reload: false })
  }
}
