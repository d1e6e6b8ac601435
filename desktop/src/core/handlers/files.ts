import { randomUUID } from 'node:crypto'
import { Refusal, refuse } from '../refusal'
import type { Core, Handlers } from './context'

type FileMethods =
  | 'messages.stageFile'
  | 'messages.sendFile'
  | 'messages.sendVoice'
  | 'messages.markVoicePlayed'
  | 'messages.fileLimit'
  | 'messages.saveFile'

const tooLarge = (max: number) =>
  refuse('file_too_large', `The file is larger than the relay takes (${Math.floor(max / 1_000_000)} MB)`)

/**
 * Files of any type: handed over in pieces (the bridge carries a few MB a call) into the account's
 * folder, then written as a message whose upload the outbox makes; saved from the relay.
 */
/** A recording's file name ending, by its media type (what browsers record). */
function extensionOf(type: string): string {
  const subtype = type.split('/')[1] ?? ''
  return { webm: 'webm', ogg: 'ogg', mp4: 'm4a', mpeg: 'mp3', wav: 'wav', aac: 'aac' }[subtype] ?? 'audio'
}

export function fileHandlers(core: Core): Handlers<FileMethods> {
  const { session, changes } = core
  return {
    'messages.fileLimit': async () => ({ maxFileBytes: await session.signedIn().files.maxFileBytes() }),
    'messages.stageFile': async ({ stageId, offset, dataBase64 }) => {
      const account = session.signedIn()
      const bytes = Buffer.from(dataBase64, 'base64')
      const max = await account.files.maxFileBytes()
      if (max !== null && offset + bytes.length > max) tooLarge(max)
      try {
        return { received: await account.files.stage(stageId, offset, bytes) }
      } catch (error) {
        return refuse('invalid_params', `messages.stageFile: ${String(error)}`)
      }
    },
    'messages.sendFile': async ({ conversation, stageId, name, type, text, clientId, replyToId }) => {
      const account = session.signedIn()
      account.messages.recipientOf(conversation)
      const written = account.messages.writtenBefore(conversation, clientId)
      if (written) return written
      const size = (await account.files.seal(stageId)) ?? refuse('not_found', 'No file was handed over')
      const max = await account.files.maxFileBytes()
      if (max !== null && size > max) tooLarge(max)
      const message = account.messages.write({
        conversation,
        text: text ?? null,
        clientId: clientId ?? randomUUID(),
        now: core.clock(),
        replyToId,
        localFile: { id: stageId, name, size, type: type || 'application/octet-stream' },
      })
      return changes.written(account, message)
    },
    'messages.sendVoice': async ({
      conversation,
      stageId,
      type,
      durationMs,
      waveform,
      clientId,
      replyToId,
    }) => {
      const account = session.signedIn()
      account.messages.recipientOf(conversation)
      const written = account.messages.writtenBefore(conversation, clientId)
      if (written) return written
      const size = (await account.files.seal(stageId)) ?? refuse('not_found', 'No recording was handed over')
      const max = await account.files.maxFileBytes()
      if (max !== null && size > max) tooLarge(max)
      const mediaType = type.split(';')[0]!.trim().toLowerCase()
      const message = account.messages.write({
        conversation,
        text: null,
        clientId: clientId ?? randomUUID(),
        now: core.clock(),
        replyToId,
        localFile: { id: stageId, name: `Voice message.${extensionOf(mediaType)}`, size, type: mediaType },
        voice: { durationMs, waveform },
      })
      return changes.written(account, message)
    },
    'messages.markVoicePlayed': async ({ localId }) => {
      const account = session.signedIn()
      const changed = account.messages.markVoicePlayed(localId)
      if (changed) changes.messages(account, changed, [localId])
      return account.messages.view(localId)
    },
    'messages.saveFile': async ({ fileId }) => {
      const result = await session.signedIn().files.download(fileId)
      if (!result.ok) {
        if (result.error.code === 'network') refuse('offline', result.error.message)
        throw new Refusal(result.error)
      }
      return { dataBase64: result.value.bytes.toString('base64') }
    },
  }
}
