import { refuse } from '../refusal'
import type { Core, Handlers } from './context'

type ConversationMethods =
  | 'conversations.list'
  | 'messages.page'
  | 'messages.markRead'
  | 'messages.history'
  | 'messages.locate'
  | 'unread.get'
  | 'typing.set'
  | 'drafts.get'
  | 'drafts.set'

/** Reading conversations: the list, pages, read markers and unread counts, history, typing and drafts. */
export function conversationHandlers(core: Core): Handlers<ConversationMethods> {
  const { session } = core
  return {
    'conversations.list': async () => session.signedIn().conversations.list(),
    'messages.page': async ({ conversation, before, after, limit }) => {
      const account = session.signedIn()
      if (before !== undefined && after !== undefined)
        refuse('invalid_params', 'Give before or after, not both')
      return account.conversations.page(conversation, { before, after }, limit ?? 50)
    },
    'messages.markRead': async ({ conversation, upTo }) => {
      const account = session.signedIn()
      if (!account.conversations.markRead(conversation, upTo, core.clock()))
        return core.unread.counts(account)
      account.kickOutbox()
      core.changes.receipts(account, [conversation])
      core.unread.stale(conversation)
      return core.unread.emit(account)
    },
    'messages.locate': async ({ messageId }) => session.signedIn().messages.located(messageId),
    'messages.history': async ({ localId }) => {
      const account = session.signedIn()
      const { server_id: serverId } = account.messages.row(localId)
      let fetched: Awaited<ReturnType<typeof account.messageHistory>> | undefined
      if (serverId !== null) fetched = await account.messageHistory(serverId)
      return {
        message: account.messages.view(localId),
        versions:
          serverId === null
            ? []
            : account.messages.versions(serverId, fetched?.ok ? fetched.value.versions : undefined),
      }
    },
    'unread.get': async () => core.unread.counts(session.signedIn()),
    'typing.set': async ({ conversation, typing }) => {
      session.signedIn().sendTyping(conversation, typing)
      return null
    },
    'drafts.get': async ({ conversation }) => session.signedIn().conversations.draft(conversation),
    'drafts.set': async ({ conversation, text }) => {
      session.signedIn().conversations.setDraft(conversation, text, core.clock())
      return null
    },
  }
}
