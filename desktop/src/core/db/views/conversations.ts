import {
  type ConversationKey,
  type ConversationView,
  displayName,
  parseConversationKey,
  type UnreadCounts,
} from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { ConversationRow } from '../schema'
import { conversationRows } from '../tables/conversations'
import { draftOf } from '../tables/drafts'
import { groupRow } from '../tables/groups'
import { lastMessageRow, unreadByConversation, unreadIn } from '../tables/messages'
import { userView } from './contacts'
import { messageViews } from './messages'

export function conversationViews(db: LocalDb, me: number): ConversationView[] {
  return conversationRows(db).map((c) => conversationView(db, me, c))
}

export function conversationView(db: LocalDb, me: number, c: ConversationRow): ConversationView {
  const last = lastMessageRow(db, c.key)
  return {
    ...lookOf(db, c.key),
    lastMessage: last ? (messageViews(db, me, [last])[0] ?? null) : null,
    unread: unreadIn(db, me, c.key, c.own_read_up_to),
    draft: draftOf(db, c.key),
    lastActivityAt: c.last_activity_at,
    ...groupFields(db, c.key),
  }
}

function groupFields(
  db: LocalDb,
  key: ConversationKey,
): Pick<ConversationView, 'memberCount' | 'role' | 'left' | 'leftReason'> {
  const ref = parseConversationKey(key)
  if (ref?.kind !== 'group') return { memberCount: null, role: null, left: false, leftReason: null }
  const g = groupRow(db, ref.id)
  return {
    memberCount: g?.member_count ?? 0,
    role: g?.role ?? null,
    left: g ? g.left_at !== null : true,
    leftReason: g?.left_reason ?? null,
  }
}

/** A conversation's title as the chat list shows it (a group's name, the peer's name). */
export function conversationTitle(db: LocalDb, key: ConversationKey): string {
  return lookOf(db, key).title
}

/**
 * What a conversation is called and shows: a 1:1 conversation takes the other person's name and
 * picture; a group its own.
 */
function lookOf(
  db: LocalDb,
  key: ConversationKey,
): Pick<ConversationView, 'key' | 'kind' | 'title' | 'avatarImageId' | 'peer'> {
  const ref = parseConversationKey(key)
  if (ref?.kind !== 'dm') {
    const g = ref ? groupRow(db, ref.id) : undefined
    return {
      key,
      kind: 'group',
      title: g?.title ?? `Group ${ref?.id ?? ''}`.trim(),
      avatarImageId: g?.avatar ?? null,
      peer: null,
    }
  }
  const peer = userView(db, ref.id)
  return { key, kind: 'dm', title: displayName(peer), avatarImageId: peer?.avatarImageId ?? null, peer }
}

/** Every conversation with unread messages, and their total. */
export function unreadCounts(db: LocalDb, me: number): UnreadCounts {
  const conversations = unreadByConversation(db, me).filter((r) => r.count > 0)
  return { total: conversations.reduce((sum, r) => sum + r.count, 0), conversations }
}
