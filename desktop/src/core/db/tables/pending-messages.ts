import type { ConversationKey } from '@parley/shared'
import { conversationId } from '../conversation-id'
import type { LocalDb } from '../local-db'
import type { MessageRow } from '../schema'
import { type ImageFields, imageParams } from './messages'

// A message this account writes goes into `messages` at once, pending (the outbox sends it): its
// own text or picture, or for a forward a copy of the original's content, shown from here until
// the relay's copy replaces it.

/** A message this account writes, before the relay has it. */
export interface PendingMessage {
  me: number
  /** The conversation; for a 1:1 conversation the recipient is its other person. */
  conversation: ConversationKey
  recipientId: number
  text: string | null
  clientId: string
  now: number
  /** A picture to upload before the send: its local id (bytes already in the media cache). */
  localImage?: ImageFields
  /** A file to upload before the send: its local copy's id, name, size and type. */
  localFile?: { id: string; name: string; size: number; type: string } | undefined
  /** With `localFile`, its recording: a voice message of this length and waveform. */
  voice?: { durationMs: number; waveform: number[] } | undefined
  /** The relay id of the message it answers. */
  replyToId?: number | undefined
  /** A forward: the relay id of the message whose content it copies (shown at once from here). */
  forward?: { of: number; row: MessageRow } | undefined
}

/** Writes a message of this account as pending; returns its local id. */
export function insertPendingRow(db: LocalDb, input: PendingMessage): number {
  const source = input.forward?.row
  const image = input.localImage ?? (source && imageOfRow(source))
  return db
    .prepare(
      `insert into messages (client_id, sender_id, recipient_id, conversation_id, text, created_at, send_state,
         image_id, image_width, image_height, image_mime, image_bytes, image_local, reply_to_id, forwarded,
         forward_of, file, voice, file_local)
       values ($clientId, $me, $recipientId, $conversationId, $text, $now, 'pending', $imageId, $imageWidth,
         $imageHeight, $imageMime, $imageBytes, $imageLocal, $replyToId, $forwarded, $forwardOf, $file, $voice, $fileLocal)
       returning local_id`,
    )
    .pluck()
    .get({
      clientId: input.clientId,
      me: input.me,
      recipientId: input.recipientId,
      conversationId: conversationId(input.conversation),
      text: source ? source.text : input.text,
      now: input.now,
      ...imageParams(image),
      imageLocal: input.localImage ? 1 : 0,
      replyToId: input.replyToId ?? null,
      forwarded: source ? 1 : 0,
      forwardOf: input.forward?.of ?? null,
      file: input.localFile ? JSON.stringify(input.localFile) : (source?.file ?? null),
      fileLocal: input.localFile ? 1 : 0,
      voice:
        input.localFile && input.voice
          ? JSON.stringify({ file: input.localFile, ...input.voice })
          : (source?.voice ?? null),
    }) as number
}

function imageOfRow(row: MessageRow): ImageFields | undefined {
  if (row.image_id === null) return undefined
  return {
    id: row.image_id,
    width: row.image_width,
    height: row.image_height,
    mime: row.image_mime ?? 'application/octet-stream',
    bytes: row.image_bytes ?? 0,
  }
}
