import { createHash, randomUUID } from 'node:crypto'
import { isBridgeErrorCode, MAX_IMAGE_BYTES, type MessageView } from '@parley/shared'
import { canRetry } from '@parley/shared/sending'
import { sniffImage } from '@parley/shared/sniff'
import type { Account } from '../account'
import {
  discardFailed,
  insertPendingMessage,
  queueDelete,
  queueEdit,
  queueReaction,
  retryMessage,
} from '../db/local-changes'
import type { MessageRow } from '../db/schema'
import { setDraft } from '../db/tables/drafts'
import { messageRow, ownMessageByClientId } from '../db/tables/messages'
import { viewOf } from '../message-events'
import { refuse } from '../refusal'
import type { Core, Handlers } from './context'

type MessageMethods =
  | 'messages.send'
  | 'messages.sendImage'
  | 'messages.edit'
  | 'messages.delete'
  | 'messages.react'
  | 'messages.retry'
  | 'messages.discard'

/**
 * Writing messages and changing them: each is written to the store at once (the outbox sends it),
 * and the windows get the message's new view.
 */
export function messageHandlers(core: Core): Handlers<MessageMethods> {
  const { session, changes } = core
  const stored = (account: Account, localId: number): MessageRow =>
    messageRow(account.db, localId) ?? refuse('not_found', `No message ${localId} on this device`)
  const own = (account: Account, localId: number): MessageRow => {
    const row = stored(account, localId)
    if (row.sender_id !== account.me) refuse('not_message_sender', 'Only the sender can change a message')
    return row
  }
  /**
   * The message a clientId already wrote (the caller did not hear back and asks again), or null.
   * The same clientId for another conversation is the caller's bug, not a second message.
   */
  const writtenBefore = (
    account: Account,
    peerId: number,
    clientId: string | undefined,
  ): MessageView | null => {
    if (clientId === undefined) return null
    const row = ownMessageByClientId(account.db, account.me, clientId)
    if (!row) return null
    if (row.peer_id !== peerId)
      refuse('client_id_conflict', 'That clientId was used for another conversation')
    return viewOf(account, row.local_id)
  }
  return {
    'messages.send': async ({ peerId, text, clientId }) => {
      const account = session.signedIn()
      if (peerId === account.me) refuse('cannot_contact_self', 'You cannot message yourself')
      const written = writtenBefore(account, peerId, clientId)
      if (written) return written
      const localId = insertPendingMessage(account.db, {
        me: account.me,
        peerId,
        text,
        clientId: clientId ?? randomUUID(),
        now: core.clock(),
      })
      setDraft(account.db, peerId, '', core.clock())
      return changes.written(account, stored(account, localId))
    },
    'messages.sendImage': async ({ peerId, dataBase64, text, clientId }) => {
      const account = session.signedIn()
      if (peerId === account.me) refuse('cannot_contact_self', 'You cannot message yourself')
      const written = writtenBefore(account, peerId, clientId)
      if (written) return written
      const bytes = Buffer.from(dataBase64, 'base64')
      if (bytes.length === 0) refuse('invalid_params', 'messages.sendImage: the picture is empty')
      if (bytes.length > MAX_IMAGE_BYTES) refuse('image_too_large', 'The file is larger than 10 MB')
      const sniffed = sniffImage(bytes)
      // Refused here, before it is queued: the relay would refuse it for good, and a message that
      // can never be sent must not sit in the conversation offering a retry.
      const mime =
        sniffed.mime ??
        refuse('unsupported_image', 'The file is not a PNG, JPEG, GIF or WebP picture (judged by its bytes)')
      // Known by its content here until the relay gives it its own id: the bytes wait, pinned, in
      // the media cache, so the sender sees the picture at once, offline and across restarts.
      const localImageId = createHash('sha256').update(bytes).digest('hex')
      account.keepLocalImage(localImageId, { mime, bytes })
      const localId = insertPendingMessage(account.db, {
        me: account.me,
        peerId,
        text: text ?? null,
        clientId: clientId ?? randomUUID(),
        now: core.clock(),
        localImage: { id: localImageId, ...sniffed, mime, bytes: bytes.length },
      })
      if (text !== undefined) setDraft(account.db, peerId, '', core.clock())
      return changes.written(account, stored(account, localId))
    },
    'messages.edit': async ({ localId, text }) => {
      const account = session.signedIn()
      const row = own(account, localId)
      if (viewOf(account, localId).deletedAt !== null)
        refuse('message_deleted', 'A deleted message cannot be edited')
      queueEdit(account.db, row, text, core.clock())
      return changes.written(account, row)
    },
    'messages.delete': async ({ localId }) => {
      const account = session.signedIn()
      const row = own(account, localId)
      if (queueDelete(account.db, row, core.clock()) === 'removed')
        return changes.removedLocally(account, row)
      return changes.written(account, row)
    },
    'messages.react': async ({ localId, emoji }) => {
      const account = session.signedIn()
      const row = stored(account, localId)
      if (viewOf(account, localId).deletedAt !== null)
        refuse('message_deleted', 'A deleted message takes no reactions')
      if (row.server_id === null) refuse('not_found', 'The message has not reached the relay yet')
      queueReaction(account.db, row, account.me, emoji, core.clock())
      return changes.written(account, row)
    },
    'messages.retry': async ({ localId }) => {
      const account = session.signedIn()
      const row = stored(account, localId)
      if (isBridgeErrorCode(row.failure_code) && !canRetry(row.failure_code))
        refuse('not_retryable', `Sending it again cannot work: ${row.failure_message ?? row.failure_code}`)
      if (!retryMessage(account.db, localId)) refuse('not_retryable', 'Nothing about this message failed')
      return changes.written(account, row)
    },
    'messages.discard': async ({ localId }) => {
      const account = session.signedIn()
      const row = stored(account, localId)
      const outcome = discardFailed(account.db, localId)
      if (outcome === 'nothing') refuse('not_retryable', 'Nothing about this message failed')
      if (outcome === 'removed') return changes.removedLocally(account, row)
      return changes.written(account, row)
    },
  }
}
