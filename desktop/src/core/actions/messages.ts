import {
  type ConversationKey,
  dmPeer,
  type MessageView,
  parseConversationKey,
  type SearchHit,
} from '@parley/shared'
import { conversationId, conversationKeyOf } from '../db/conversation-id'
import {
  discardFailed,
  insertPendingMessage,
  queueEdit,
  queueReaction,
  queueRemoval,
  retryMessage,
} from '../db/local-changes'
import type { MessageRow } from '../db/schema'
import { searchMessages } from '../db/search'
import { setDraft } from '../db/tables/drafts'
import { groupRow, memberRole } from '../db/tables/groups'
import { cachedVersions, saveVersions } from '../db/tables/message-versions'
import {
  type ImageFields,
  markVoicePlayed,
  messageRow,
  messageRowByServerId,
  ownMessageByClientId,
} from '../db/tables/messages'
import { messageView } from '../db/views/messages'
import { refuse } from '../refusal'
import { AccountActions } from './base'

/** A message to write: where, what, and the caller's clientId (made here when none is given). */
export interface NewMessage {
  conversation: ConversationKey
  text: string | null
  clientId: string
  now: number
  /** A picture whose bytes wait in the media cache under this local id. */
  localImage?: ImageFields
  /** A file whose bytes wait in the account's folder under this local id. */
  localFile?: { id: string; name: string; size: number; type: string } | undefined
  /** With `localFile`, its recording: a voice message of this length and waveform. */
  voice?: { durationMs: number; waveform: number[] } | undefined
  /** The relay id of the message of the same conversation it answers. */
  replyToId?: number | undefined
  /** A forward: the relay id of the message whose content it copies. */
  forwardOf?: number | undefined
}

/**
 * One account's messages: reading them as the bridge shows them, writing them (pending, sent by the
 * outbox), and the changes made to them before the relay confirms.
 */
export class MessageActions extends AccountActions {
  /** A stored message's row, or a `not_found` refusal. */
  row(localId: number): MessageRow {
    return messageRow(this.db, localId) ?? refuse('not_found', `No message ${localId} on this device`)
  }

  /** A message of this account's, or a refusal. */
  own(localId: number): MessageRow {
    const row = this.row(localId)
    if (row.event !== null) refuse('not_found', 'A change of the group is not a message')
    if (row.sender_id !== this.me) refuse('not_message_sender', 'Only the sender can change a message')
    return row
  }

  /** A message this account may delete: its own, or any in a group it is an owner or admin of. */
  deletable(localId: number): MessageRow {
    const row = this.row(localId)
    if (row.event === null && row.sender_id !== this.me && row.conversation_id < 0) {
      const role = memberRole(this.db, -row.conversation_id, this.me)
      if (role === 'owner' || role === 'admin') return row
    }
    return this.own(localId)
  }

  view(localId: number): MessageView {
    return (
      messageView(this.db, this.me, localId) ?? refuse('not_found', `No message ${localId} on this device`)
    )
  }

  /**
   * The message a clientId already wrote (the caller did not hear back and asks again), or null.
   * The same clientId for another conversation is the caller's bug, not a second message.
   */
  writtenBefore(conversation: ConversationKey, clientId: string | undefined): MessageView | null {
    if (clientId === undefined) return null
    const row = ownMessageByClientId(this.db, this.me, clientId)
    if (!row) return null
    if (row.conversation_id !== conversationId(conversation))
      refuse('client_id_conflict', 'That clientId was used for another conversation')
    return this.view(row.local_id)
  }

  /** Who a new message goes to: the other person of a 1:1 conversation; 0 for a group you are in. */
  recipientOf(conversation: ConversationKey): number {
    const ref = parseConversationKey(conversation)
    if (ref?.kind === 'group') {
      const group = groupRow(this.db, ref.id)
      if (!group || group.left_at !== null) refuse('not_found', `You are not in ${conversation}`)
      return 0
    }
    const peer = dmPeer(conversation) ?? refuse('not_found', `No conversation ${conversation} on this device`)
    if (peer === this.me) refuse('cannot_contact_self', 'You cannot message yourself')
    return peer
  }

  /** Writes a message as pending, its send queued; a text clears the conversation's draft. */
  write(message: NewMessage): MessageRow {
    const recipientId = this.recipientOf(message.conversation)
    if (message.replyToId !== undefined) this.replyable(message.conversation, message.replyToId)
    const forward =
      message.forwardOf === undefined
        ? undefined
        : { of: message.forwardOf, row: this.forwardable(message.forwardOf) }
    const localId = insertPendingMessage(this.db, { ...message, me: this.me, recipientId, forward })
    if (message.text !== null) setDraft(this.db, message.conversation, '', message.now)
    return this.row(localId)
  }

  /** A voice message was played here; its conversation when that changed it (it was unplayed), else null. */
  markVoicePlayed(localId: number): ConversationKey | null {
    const row = this.row(localId)
    if (row.voice === null || row.hidden === 1) refuse('not_found', 'That message is not a voice message')
    return markVoicePlayed(this.db, localId) ? conversationKeyOf(row.conversation_id) : null
  }

  /** A reply answers a message of the same conversation that the relay has. */
  replyable(conversation: ConversationKey, serverId: number): MessageRow {
    const row = messageRowByServerId(this.db, serverId)
    if (
      !row ||
      row.hidden === 1 ||
      row.event !== null ||
      row.conversation_id !== conversationId(conversation)
    )
      return refuse('reply_not_found', 'The message to answer is not in this conversation on this device')
    return row
  }

  /** A message by its relay id (a message link), as stored here; null when this device has none you can see. */
  located(serverId: number): MessageView | null {
    const row = messageRowByServerId(this.db, serverId)
    if (!row || row.hidden === 1 || row.event !== null) return null
    return messageView(this.db, this.me, row.local_id) ?? null
  }

  /** A message whose content can be forwarded: one the relay has, not deleted. */
  forwardable(serverId: number): MessageRow {
    const row = messageRowByServerId(this.db, serverId)
    if (!row || row.hidden === 1 || row.event !== null)
      return refuse('not_found', 'The message to forward is not on this device')
    if (row.deleted_at !== null) refuse('message_deleted', 'A deleted message cannot be forwarded')
    return row
  }

  /** Delete for me; `removed` when the message had never left this device (it is simply gone). */
  hide(row: MessageRow, now: number): 'removed' | 'queued' {
    if (row.event !== null) refuse('not_found', 'A change of the group is not a message')
    return queueRemoval(this.db, row, 'hide', now)
  }

  edit(row: MessageRow, text: string, now: number): void {
    queueEdit(this.db, row, text, now)
  }

  /** `removed` when the message had never left this device (it is simply gone). */
  delete(row: MessageRow, now: number): 'removed' | 'queued' {
    return queueRemoval(this.db, row, 'delete', now)
  }

  react(row: MessageRow, emoji: string, now: number): void {
    queueReaction(this.db, row, this.me, emoji, now)
  }

  /** Queues a failed send or change again; false when nothing had failed. */
  retry(localId: number): boolean {
    return retryMessage(this.db, localId)
  }

  discard(localId: number): 'removed' | 'reverted' | 'nothing' {
    return discardFailed(this.db, localId)
  }

  /** A message's earlier versions as last fetched; `fetched` (from the relay) replaces them first. */
  versions(serverId: number, fetched?: readonly { text: string; writtenAt: number; replacedAt: number }[]) {
    if (fetched) saveVersions(this.db, serverId, fetched)
    return cachedVersions(this.db, serverId)
  }

  search(query: {
    q: string
    conversation?: ConversationKey | undefined
    limit: number
    offset: number
  }): SearchHit[] {
    return searchMessages(this.db, this.me, query)
  }
}
