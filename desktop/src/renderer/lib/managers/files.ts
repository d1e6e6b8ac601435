import type { ConversationKey, MessageView } from '@parley/shared'
import { FILE_PIECE_BYTES, MAX_VOICE_DURATION_MS } from '@parley/shared/limits'
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
  const stageId = await stage(bridge, file)
  return call(bridge, 'messages.sendFile', {
    conversation,
    stageId,
    name: file.name || 'file',
    type: file.type,
    ...(replyToId !== undefined && { replyToId }),
  })
}

/** A file's or a recording's bytes to the app in pieces (kept there at once); its stage id. */
async function stage(bridge: Bridge, blob: Blob): Promise<string> {
  const stageId = crypto.randomUUID()
  for (let offset = 0; offset < blob.size; offset += FILE_PIECE_BYTES) {
    const dataBase64 = await toBase64(blob.slice(offset, offset + FILE_PIECE_BYTES))
    await call(bridge, 'messages.stageFile', { stageId, offset, dataBase64 })
  }
  return stageId
}

/**
 * Sends a stopped recording as a voice message: its bytes handed to the app in pieces, then written
 * as a pending voice message (with its length and waveform) whose upload the outbox makes. The
 * clientId makes handing it over again after a lost answer return the same message.
 */
export async function sendVoice(
  bridge: Bridge,
  conversation: ConversationKey,
  recording: { blob: Blob; type: string; durationMs: number; waveform: number[] },
  clientId: string,
  replyToId: number | undefined,
): Promise<MessageView> {
  if (recording.blob.size === 0) throw new Error('The recording is empty')
  const stageId = await stage(bridge, recording.blob)
  return call(bridge, 'messages.sendVoice', {
    conversation,
    stageId,
    type: recording.type.startsWith('audio/') ? recording.type : 'audio/webm',
    durationMs: Math.min(Math.max(1, Math.round(recording.durationMs)), MAX_VOICE_DURATION_MS),
    waveform: recording.waveform.length > 0 ? recording.waveform : [0],
    clientId,
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
  downloadBlob(await readDownloaded(bridge, fileId, size, name, 'application/octet-stream'), name)
}

/**
 * A file the app has (`messages.downloadFile`, or downloaded here) read into a Blob in pieces
 * (each fits a bridge frame; never one giant base64 string).
 */
export async function readDownloaded(
  bridge: Bridge,
  fileId: string,
  size: number,
  name: string,
  type: string,
): Promise<Blob> {
  const parts: Uint8Array<ArrayBuffer>[] = []
  for (let offset = 0; offset < size; ) {
    const { dataBase64 } = await call(bridge, 'messages.readFile', { fileId, offset })
    const piece = fromBase64(dataBase64)
    if (piece.length === 0)
      throw new Error(`“${name}” ended early: ${formatBytes(offset)} of ${formatBytes(size)}`)
    parts.push(piece)
    offset += piece.length
  }
  return new Blob(parts, { type })
}

/** A message's file brought onto this device and read into a Blob (to play a voice message). */
export async function fetchFile(
  bridge: Bridge,
  file: { id: string; name: string; type: string },
): Promise<Blob> {
  const { size } = await call(bridge, 'messages.downloadFile', { fileId: file.id })
  return readDownloaded(bridge, file.id, size, file.name, file.type)
}
