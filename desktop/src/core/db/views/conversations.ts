import type { ConversationView, UnreadCounts } from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { ConversationRow } from '../schema'
import { conversationRows } from '../tables/conversations'
import { draftOf } from '../tables/drafts'
import { lastMessageRow, unreadByConversation, unreadIn } from '../tables/messages'
import { userView } from './contacts'
import { messageViews } from './messages'

export function conversationViews(db: LocalDb, me: number): ConversationView[] {
  return conversationRows(db).map((c) => conversationView(db, me, c))
}

export function conversationView(db: LocalDb, me: number, c: ConversationRow): ConversationView {
  const last = lastMessageRow(db, c.peer_id)
  return {
    peerId: c.peer_id,
    peer: userView(db, c.peer_id),
    lastMessage: last ? (messageViews(db, me, [last])[0] ?? null) : null,
    unread: unreadIn(db, c.peer_id, c.own_read_up_to),
    draft: draftOf(db, c.peer_id),
    lastActivityAt: c.last_activity_at,
  }
}

/** Every conversation with unread messages, and their total. */
export function unreadCounts(db: LocalDb): UnreadCounts {
  const conversations = unreadByConversation(db).filter((r) => r.count > 0)
  return { total: conversations.reduce((sum, r) => sum + r.count, 0), conversations }
}
