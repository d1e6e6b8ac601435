import type { ConversationKey, ConversationView, DraftView, MessagePage } from '@parley/shared'
import { conversationId } from '../db/conversation-id'
import { coalesceReceipt } from '../db/local-changes'
import { moveOwnReadMarker } from '../db/tables/conversations'
import { draftOf, setDraft } from '../db/tables/drafts'
import { lastServerId, messageRowByServerId } from '../db/tables/messages'
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
