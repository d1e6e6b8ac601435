import { coalesceReceipt } from '../db/local-changes'
import { moveOwnReadMarker } from '../db/tables/conversations'
import { draftOf, setDraft } from '../db/tables/drafts'
import { cachedVersions, saveVersions } from '../db/tables/message-versions'
import { lastServerId, messageRow, messageRowByServerId } from '../db/tables/messages'
import { settingsOf } from '../db/tables/settings'
import { conversationViews } from '../db/views/conversations'
import { messagePage } from '../db/views/messages'
import { viewOf } from '../message-events'
import { refuse } from '../refusal'
import type { Core, Handlers } from './context'

type ConversationMethods =
  | 'conversations.list'
  | 'messages.page'
  | 'messages.markRead'
  | 'messages.history'
  | 'unread.get'
  | 'typing.set'
  | 'drafts.get'
  | 'drafts.set'

/** Reading conversations: the list, pages, read markers and unread counts, history, typing and drafts. */
export function conversationHandlers(core: Core): Handlers<ConversationMethods> {
  const { session } = core
  return {
    'conversations.list': async () => {
      const account = session.signedIn()
      return conversationViews(account.db, account.me)
    },
    'messages.page': async ({ peerId, before, after, limit }) => {
      const account = session.signedIn()
      if (before !== undefined && after !== undefined)
        refuse('invalid_params', 'Give before or after, not both')
      return messagePage(account.db, account.me, peerId, { before, after }, limit ?? 50)
    },
    'messages.markRead': async ({ peerId, upTo }) => {
      const account = session.signedIn()
      const target = upTo ?? lastServerId(account.db, peerId)
      if (upTo !== undefined && messageRowByServerId(account.db, upTo)?.peer_id !== peerId) {
        refuse('not_found', `Message ${upTo} is not in that conversation`)
      }
      if (target === 0) return core.unread.counts(account)
      const moved = account.db.transaction(() => {
        const changed = moveOwnReadMarker(account.db, peerId, target)
        if (changed) coalesceReceipt(account.db, 'read', peerId, target, core.clock())
        return changed
      })
      if (!moved) return core.unread.counts(account)
      account.kickOutbox()
      core.changes.receipts(account, [peerId])
      core.unread.stale(peerId)
      return core.unread.emit(account)
    },
    'messages.history': async ({ localId }) => {
      const account = session.signedIn()
      const row =
        messageRow(account.db, localId) ?? refuse('not_found', `No message ${localId} on this device`)
      if (row.server_id !== null) {
        const fetched = await account.messageHistory(row.server_id)
        if (fetched.ok) saveVersions(account.db, row.server_id, fetched.value.versions)
      }
      return {
        message: viewOf(account, localId),
        versions: row.server_id === null ? [] : cachedVersions(account.db, row.server_id),
      }
    },
    'unread.get': async () => core.unread.counts(session.signedIn()),
    'typing.set': async ({ peerId, typing }) => {
      const account = session.signedIn()
      if (settingsOf(account.db).sendTypingIndicators) account.sendTyping(peerId, typing)
      return null
    },
    'drafts.get': async ({ peerId }) => draftOf(session.signedIn().db, peerId),
    'drafts.set': async ({ peerId, text }) => {
      setDraft(session.signedIn().db, peerId, text, core.clock())
      return null
    },
  }
}
