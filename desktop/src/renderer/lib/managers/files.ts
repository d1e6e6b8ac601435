import type { ConversationKey, MessageView } from '@parley/shared'
import { FILE_PIECE_BYTES } from '@parley/shared/limits'
import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import { downloadBlob, fromBase64 } from '../download'
import { BridgeFailure } from '../errors'
import { formatBytes } from '../format'
import { toBase64 } from '../pictures'

// Files of any type, for ConversationState: sending (the relay's limit first, then the bytes to
// the app in pieces, kept there at once) and saving.

/**
 * Refused at once when larger than the relay takes (as it states it); else handed to the app in
 * pieces and written as a pending message, whose upload the outbox makes.
 */
export async function sendFile(
  bridge: Bridge,
  conversation: ConversationKey,
  file: File,
  replyToId: number | undefined,
): Promise<MessageView> {
  if (file.size === 0) throw new Error(`“${file.name}” is empty`)
  const { maxFileBytes } = await call(bridge, 'messages.fileLimit', {})
  if (maxFileBytes !== null && file.size > maxFileBytes)
    throw new Error(
      `“${file.name}” (${formatBytes(file.size)}) is larger than this relay takes: files up to ${formatBytes(maxFileBytes)}`,
    )
  const stageId = crypto.randomUUID()
  for (let offset = 0; offset < file.size; offset += FILE_PIECE_BYTES) {
    const dataBase64 = await toBase64(file.slice(offset, offset + FILE_PIECE_BYTES))
    await call(bridge, 'messages.stageFile', { stageId, offset, dataBase64 })
  }
  return call(bridge, 'messages.sendFile', {
    conversation,
    stageId,
    name: file.name || 'file',
    type: file.type,
    ...(replyToId !== undefined && { replyToId }),
  })
}

/**
 * A message's file, downloaded by the app (its progress: `files.downloadProgress`), then saved:
 * Electron asks where and copies it (no bytes through the window); a browser reads it in pieces
 * into a Blob and downloads that.
 */
export async function saveFile(bridge: Bridge, message: MessageView): Promise<void> {
  if (!message.file || message.file.local) return
  const { id: fileId, name } = message.file
  const { size } = await call(bridge, 'messages.downloadFile', { fileId })
  const asked = await bridge.invoke('messages.saveFileAs', { fileId, name })
  if (asked.ok) return
  if (asked.error.code !== 'unsupported') throw new BridgeFailure(asked.error)
  const parts: Uint8Array<ArrayBuffer>[] = []
  for (let offset = 0; offset < size; ) {
    const { dataBase64 } = await call(bridge, 'messages.readFile', { fileId, offset })
    const piece = fromBase64(dataBase64)
    if (piece.length === 0)
      throw new Error(`“${name}” ended early: ${formatBytes(offset)} of ${formatBytes(size)}`)
    parts.push(piece)
    offset += piece.length
  }
  downloadBlob(new Blob(parts, { type: 'application/octet-stream' }), name)
}
