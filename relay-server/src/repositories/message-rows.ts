import type { FileInfo, ImageInfo, Message, Reaction, VoiceInfo } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, FileRow, ImageRow, MessageRow } from '../db/schema'

type Db = Kysely<Database>

/** A message row with its image's and file's facts (null columns when it has none). */
export type MessageWithMedia = MessageRow & {
  image_mime: ImageInfo['mime'] | null
  image_width: number | null
  image_height: number | null
  image_bytes: number | null
  file_name: string | null
  file_size: number | null
  file_type: string | null
}

/** Messages with what a Message shows of their image and file, from one query. */
export function selectMessages(db: Db) {
  return db
    .selectFrom('messages')
    .leftJoin('images', 'images.id', 'messages.image_id')
    .leftJoin('files', 'files.id', 'messages.file_id')
    .selectAll('messages')
    .select([
      'images.mime as image_mime',
      'images.width as image_width',
      'images.height as image_height',
      'images.bytes as image_bytes',
      'files.name as file_name',
      'files.size as file_size',
      'files.type as file_type',
    ])
}

/** A waveform as stored: one byte per sample, base64 (at most 172 characters). */
export const encodeWaveform = (waveform: readonly number[]) => Buffer.from(waveform).toString('base64')
const decodeWaveform = (stored: string) => [...Buffer.from(stored, 'base64')]

function imageOf(row: MessageWithMedia): ImageInfo | null {
  if (row.image_id === null || row.image_mime === null) return null
  return {
    id: row.image_id,
    mime: row.image_mime,
    width: row.image_width!,
    height: row.image_height!,
    bytes: row.image_bytes!,
  }
}

function fileOf(row: MessageWithMedia): FileInfo | null {
  if (row.file_id === null || row.file_name === null) return null
  return { id: row.file_id, name: row.file_name, size: Number(row.file_size), type: row.file_type! }
}

function voiceOf(row: MessageWithMedia, file: FileInfo | null): VoiceInfo | null {
  if (file === null || row.voice_duration_ms === null || row.voice_waveform === null) return null
  return { file, durationMs: row.voice_duration_ms, waveform: decodeWaveform(row.voice_waveform) }
}

/** What a message shows: a deleted one keeps only who sent it where and when. */
export function toMessage(row: MessageWithMedia, reactions: Reaction[]): Message {
  const live = row.deleted_at === null
  const file = live ? fileOf(row) : null
  const voice = voiceOf(row, file)
  return {
    id: row.id,
    clientId: row.client_id,
    senderId: row.sender_id,
    recipientId: row.group_id === null ? row.recipient_id : null,
    groupId: row.group_id,
    text: live ? row.text : null,
    image: live ? imageOf(row) : null,
    file: voice ? null : file,
    voice,
    replyToId: live ? row.reply_to_id : null,
    forwarded: live && row.forwarded === 1,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    deletedAt: row.deleted_at,
    reactions: live ? reactions : [],
  }
}

/** A message just written (no reactions yet), with the picture and file it carries, if any. */
export function newMessage(row: MessageRow, image: ImageRow | undefined, file: FileRow | undefined): Message {
  return toMessage(
    {
      ...row,
      image_mime: image?.mime ?? null,
      image_width: image?.width ?? null,
      image_height: image?.height ?? null,
      image_bytes: image?.bytes ?? null,
      file_name: file?.name ?? null,
      file_size: file?.size ?? null,
      file_type: file?.type ?? null,
    },
    [],
  )
}
