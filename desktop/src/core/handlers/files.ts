import { randomUUID } from 'node:crypto'
import type { ConversationKey, MessageView } from '@parley/shared'
import type { NewMessage } from '../actions/messages'
import { online, refuse } from '../refusal'
import type { Core, Handlers } from './context'

type FileMethods =
  | 'messages.stageFile'
  | 'messages.sendFile'
  | 'messages.sendVoice'
  | 'messages.markVoicePlayed'
  | 'messages.fileLimit'
  | 'messages.downloadFile'
  | 'messages.readFile'
  | 'messages.saveFileAs'

const tooLarge = (max: number) =>
  refuse('file_too_large', `The file is larger than the relay takes (${Math.floor(max / 1_000_000)} MB)`)

/**
 * Files of any type: handed over in pieces (the bridge carries a few MB a call) into the account's
 * folder, then written as a message whose upload the outbox makes. Saved: downloaded to disk,
 * then read back in pieces (browser mode) or copied where the person chose (Electron's dialog).
 */
/** A recording's file name ending, by its media type (what browsers record). */
function extensionOf(type: string): string {
  const subtype = type.split('/')[1] ?? ''
  return { webm: 'webm', ogg: 'ogg', mp4: 'm4a', mpeg: 'mp3', wav: 'wav', aac: 'aac' }[subtype] ?? 'audio'
}

export function fileHandlers(core: Core): Handlers<FileMethods> {
  const { session, changes } = core

  /**
   * A staged file written as a pending message whose upload the outbox makes (within the relay's
   * limit); the same clientId again returns the message the first call wrote.
   */
  async function sendStaged(
    params: { conversation: ConversationKey; stageId: string; clientId?: string; replyToId?: number },
    missing: string,
    content: (size: number, stageId: string) => Pick<NewMessage, 'text' | 'localFile' | 'voice'>,
  ): Promise<MessageView> {
    const { conversation, stageId, clientId, replyToId } = params
    const account = session.signedIn()
    account.messages.recipientOf(conversation)
    const written = account.messages.writtenBefore(conversation, clientId)
    if (written) return written
    const size = (await account.files.seal(stageId)) ?? refuse('not_found', missing)
    const max = await account.files.maxFileBytes()
    if (max !== null && size > max) tooLarge(max)
    const message = account.messages.write({
      conversation,
      clientId: clientId ?? randomUUID(),
      now: core.clock(),
      replyToId,
      ...content(size, stageId),
    })
    return changes.written(account, message)
  }

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
    'messages.sendFile': ({ name, type, text, ...params }) =>
      sendStaged(params, 'No file was handed over', (size, id) => ({
        text: text ?? null,
        localFile: { id, name, size, type: type || 'application/octet-stream' },
      })),
    'messages.sendVoice': ({ type, durationMs, waveform, ...params }) => {
      const mediaType = type.split(';')[0]!.trim().toLowerCase()
      return sendStaged(params, 'No recording was handed over', (size, id) => ({
        text: null,
        localFile: { id, name: `Voice message.${extensionOf(mediaType)}`, size, type: mediaType },
        voice: { durationMs, waveform },
      }))
    },
    'messages.markVoicePlayed': async ({ localId }) => {
      const account = session.signedIn()
      const changed = account.messages.markVoicePlayed(localId)
      if (changed) changes.messages(account, changed, [localId])
      return account.messages.view(localId)
    },
    'messages.downloadFile': async ({ fileId }) => online(session.signedIn().downloads.fetch(fileId)),
    'messages.readFile': async ({ fileId, offset }) => {
      let piece: Buffer | null
      try {
        piece = await session.signedIn().downloads.read(fileId, offset)
      } catch (error) {
        return refuse('invalid_params', `messages.readFile: ${(error as Error).message}`)
      }
      if (!piece) return refuse('not_found', 'That file is not downloaded: messages.downloadFile first')
      return { dataBase64: piece.toString('base64') }
    },
    'messages.saveFileAs': async ({ fileId, name }) => {
      const { saveAs } = core
      if (!saveAs) return refuse('unsupported', 'No save dialog here: read the file and save it in the page')
      const local = await session.signedIn().downloads.local(fileId)
      if (!local) return refuse('not_found', 'That file is not downloaded: messages.downloadFile first')
      let chosen: string | null
      try {
        chosen = await saveAs({ source: local.path, suggestedName: name })
      } catch (error) {
        core.logger.warn('could not save a file', { error: (error as Error).message })
        return refuse('save_failed', `The file could not be saved: ${(error as Error).message}`)
      }
      return { saved: chosen !== null }
    },
  }
}
