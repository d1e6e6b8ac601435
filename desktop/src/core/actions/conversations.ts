import type { ConversationKey, ConversationView, DraftView, MessagePage } from '@parley/shared'
import { conversationId, conversationKeyOf } from '../db/conversation-id'
import { coalesceReceipt } from '../db/local-changes'
import { conversationMarkers, moveOwnReadMarker } from '../db/tables/conversations'
import { draftOf, setDraft } from '../db/tables/drafts'
import { lastServerId, messageRowByServerId } from '../db/tables/messages'
import { receiptTimesOf, type Whose } from '../db/tables/receipt-times'
import { conversationViews } from '../db/views/conversations'
import { messagePage } from '../db/views/messages'
import { refuse } from '../refusal'
import { AccountActions } from './base'

/** One account's conversations, by key: the list, pages, read markers and drafts. */
export class ConversationActions extends AccountActions {
  /** Every conversation, most recently active first. */
  list(): ConversationView[] {
    return conversationViews(this.db, this.me)
  }

  page(
    conversation: ConversationKey,
    range: { before?: number | undefined; after?: number | undefined },
    limit: number,
  ): MessagePage {
    return messagePage(this.db, this.me, conversation, range, limit)
  }

  /** The conversation a stored message is in. */
  keyOf(row: { conversation_id: number }): ConversationKey {
    return conversationKeyOf(row.conversation_id)
  }

  /**
   * How far `whose` receipts reached message `serverId` of a conversation, and when, as this
   * device knows: `own`, this account's; `peer`, the other person's in a 1:1 conversation.
   */
  receiptOf(
    conversation: ConversationKey,
    whose: Whose,
    serverId: number,
  ): { delivered: boolean; read: boolean; deliveredAt: number | null; readAt: number | null } {
    const markers = conversationMarkers(this.db, conversation)
    const readUpTo = whose === 'own' ? markers.own_read_up_to : markers.peer_read_up_to
    const deliveredUpTo = Math.max(
      readUpTo,
      whose === 'own' ? markers.own_delivered_up_to : markers.peer_delivered_up_to,
    )
    return {
      delivered: deliveredUpTo >= serverId,
      read: readUpTo >= serverId,
      ...receiptTimesOf(this.db, conversation, whose, serverId),
    }
  }

  /**
   * Moves the own read marker up to a relay message of the conversation (default: its newest) and
   * queues the receipt; false when there was nothing to move.
   */
  markRead(conversation: ConversationKey, upTo: number | undefined, now: number): boolean {
    const db = this.db
    if (
      upTo !== undefined &&
      messageRowByServerId(db, upTo)?.conversation_id !== conversationId(conversation)
    ) {
      refuse('not_found', `Message ${upTo} is not in that conversation`)
    }
    const target = upTo ?? lastServerId(db, conversation)
    if (target === 0) return false
    return db.transaction(() => {
      const moved = moveOwnReadMarker(db, conversation, target)
      if (moved) coalesceReceipt(db, 'read', conversation, target, now)
      return moved
    })
  }

  draft(conversation: ConversationKey): DraftView | null {
    return draftOf(this.db, conversation)
  }

  /** An empty text clears the draft. */
  setDraft(conversation: ConversationKey, text: string, now: number): void {
    setDraft(this.db, conversation, text, now)
  }
}
