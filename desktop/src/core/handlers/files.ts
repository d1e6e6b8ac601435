import { randomUUID } from 'node:crypto'
import { online, refuse } from '../refusal'
import type { Core, Handlers } from './context'

type FileMethods =
  | 'messages.stageFile'
  | 'messages.sendFile'
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
