import type { ConversationKey, MessageView } from '@parley/shared'
import { FILE_PIECE_BYTES, MAX_VOICE_DURATION_MS } from '@parley/shared/limits'
import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import { downloadBytes } from '../download'
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

/** The recording's bytes to the app in pieces (kept there at once); its stage id. */
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

/** A message's file, downloaded and handed to the browser as a download (Electron asks where). */
export async function saveFile(bridge: Bridge, message: MessageView): Promise<void> {
  if (!message.file || message.file.local) return
  const { dataBase64 } = await call(bridge, 'messages.saveFile', { fileId: message.file.id })
  downloadBytes(dataBase64, 'application/octet-stream', message.file.name)
}
