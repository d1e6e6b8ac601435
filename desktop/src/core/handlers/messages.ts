import { createHash, randomUUID } from 'node:crypto'
import { isBridgeErrorCode, MAX_IMAGE_BYTES } from '@parley/shared'
import { canRetry } from '@parley/shared/sending'
import { sniffImage } from '@parley/shared/sniff'
import type { Account } from '../account'
import type { NewMessage } from '../actions/messages'
import { refuse } from '../refusal'
import type { Core, Handlers } from './context'

type MessageMethods =
  | 'messages.send'
  | 'messages.sendImage'
  | 'messages.forward'
  | 'messages.hide'
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
  /** Writes a new message (the caller checked it) and tells the windows. */
  const write = (account: Account, message: Omit<NewMessage, 'clientId' | 'now'> & { clientId?: string }) =>
    changes.written(
      account,
      account.messages.write({ ...message, clientId: message.clientId ?? randomUUID(), now: core.clock() }),
    )
  return {
    'messages.send': async ({ conversation, text, clientId, replyToId }) => {
      const account = session.signedIn()
      account.messages.recipientOf(conversation)
      const written = account.messages.writtenBefore(conversation, clientId)
      if (written) return written
      return write(account, { conversation, text, replyToId, ...(clientId !== undefined && { clientId }) })
    },
    'messages.forward': async ({ localId, to }) => {
      const account = session.signedIn()
      const forwardOf =
        account.messages.row(localId).server_id ??
        refuse('not_found', 'The message has not reached the relay yet')
      account.messages.forwardable(forwardOf)
      // Every target is checked before any copy is written: all or none.
      for (const conversation of to) account.messages.recipientOf(conversation)
      return to.map((conversation) => write(account, { conversation, text: null, forwardOf }))
    },
    'messages.hide': async ({ localId }) => {
      const account = session.signedIn()
      const row = account.messages.row(localId)
      if (account.messages.hide(row, core.clock()) === 'removed') return changes.removedLocally(account, row)
      // Told as removed: a hidden message is no longer among those the windows are shown.
      changes.written(account, row)
      return null
    },
    'messages.sendImage': async ({ conversation, dataBase64, text, clientId, replyToId }) => {
      const account = session.signedIn()
      account.messages.recipientOf(conversation)
      const written = account.messages.writtenBefore(conversation, clientId)
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
      return write(account, {
        conversation,
        text: text ?? null,
        replyToId,
        ...(clientId !== undefined && { clientId }),
        localImage: { id: localImageId, ...sniffed, mime, bytes: bytes.length },
      })
    },
    'messages.edit': async ({ localId, text }) => {
      const account = session.signedIn()
      const row = account.messages.own(localId)
      if (account.messages.view(localId).deletedAt !== null)
        refuse('message_deleted', 'A deleted message cannot be edited')
      account.messages.edit(row, text, core.clock())
      return changes.written(account, row)
    },
    'messages.delete': async ({ localId }) => {
      const account = session.signedIn()
      const row = account.messages.deletable(localId)
      if (account.messages.delete(row, core.clock()) === 'removed')
        return changes.removedLocally(account, row)
      return changes.written(account, row)
    },
    'messages.react': async ({ localId, emoji }) => {
      const account = session.signedIn()
      const row = account.messages.row(localId)
      if (account.messages.view(localId).deletedAt !== null)
        refuse('message_deleted', 'A deleted message takes no reactions')
      if (row.server_id === null) refuse('not_found', 'The message has not reached the relay yet')
      account.messages.react(row, emoji, core.clock())
      return changes.written(account, row)
    },
    'messages.retry': async ({ localId }) => {
      const account = session.signedIn()
      const row = account.messages.row(localId)
      if (isBridgeErrorCode(row.failure_code) && !canRetry(row.failure_code))
        refuse('not_retryable', `Sending it again cannot work: ${row.failure_message ?? row.failure_code}`)
      if (!account.messages.retry(localId)) refuse('not_retryable', 'Nothing about this message failed')
      return changes.written(account, row)
    },
    'messages.discard': async ({ localId }) => {
      const account = session.signedIn()
      const row = account.messages.row(localId)
      const outcome = account.messages.discard(localId)
      if (outcome === 'nothing') refuse('not_retryable', 'Nothing about this message failed')
      if (outcome === 'removed') return changes.removedLocally(account, row)
      return changes.written(account, row)
    },
  }
}
