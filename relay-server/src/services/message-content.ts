import type { SendMessageBody } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, FileRow, ImageRow, MessageRow } from '../db/schema'
import { AppError } from '../errors'
import { findFile, findOwnFile } from '../repositories/files'
import { findImage, findUploadedImage } from '../repositories/images'
import { encodeWaveform } from '../repositories/message-rows'
import { conversationKey, findMessageRow, isVisibleTo, type MessageContent } from '../repositories/messages'

type Db = Kysely<Database>

/** Where a message goes: a 1:1 conversation, or a group as of when the sender joined it. */
export type Destination = { recipientId: number } | { groupId: number; joinedSeq: number }

/** What a send stores, and the picture and file rows the Message it answers with shows. */
export interface ResolvedContent {
  content: MessageContent
  image: ImageRow | undefined
  file: FileRow | undefined
}

/**
 * Turns a send's body into what the message row keeps, checking every reference: an image or file
 * must be the sender's own upload; a forward copies the content of a message the sender can see
 * (its image and file are shared, not uploaded again, and access to them follows the messages);
 * a reply must point into the same conversation, at a message the sender can see.
 */
export async function resolveContent(
  db: Db,
  senderId: number,
  body: SendMessageBody,
  destination: Destination,
  mayRead: (row: MessageRow) => Promise<boolean>,
): Promise<ResolvedContent> {
  const replyTo =
    body.replyToId === undefined ? null : await checkReply(db, senderId, body.replyToId, destination)
  if (body.forwardOf !== undefined) {
    const source = await findMessageRow(db, body.forwardOf)
    if (!source || source.deleted_at !== null || !(await mayRead(source))) {
      throw new AppError('message_not_found', `No message ${body.forwardOf} that you can forward`)
    }
    return {
      content: {
        text: source.text,
        image_id: source.image_id,
        file_id: source.file_id,
        voice_duration_ms: source.voice_duration_ms,
        voice_waveform: source.voice_waveform,
        reply_to_id: replyTo,
        forwarded: 1,
      },
      image: source.image_id === null ? undefined : await findImage(db, source.image_id),
      file: source.file_id === null ? undefined : await findFile(db, source.file_id),
    }
  }
  const image = body.imageId === undefined ? undefined : await findUploadedImage(db, senderId, body.imageId)
  if (body.imageId !== undefined && !image) {
    throw new AppError('image_not_found', 'Attach an image you uploaded yourself')
  }
  const fileId = body.fileId ?? body.voice?.fileId
  const file = fileId === undefined ? undefined : await findOwnFile(db, senderId, fileId)
  if (fileId !== undefined && !file)
    throw new AppError('file_not_found', 'Attach a file you uploaded yourself')
  return {
    content: {
      text: body.text ?? null,
      image_id: image?.id ?? null,
      file_id: file?.id ?? null,
      voice_duration_ms: body.voice?.durationMs ?? null,
      voice_waveform: body.voice ? encodeWaveform(body.voice.waveform) : null,
      reply_to_id: replyTo,
      forwarded: 0,
    },
    image,
    file,
  }
}

/**
 * The message replied to, if it is in the destination conversation and the sender can see it: in
 * 1:1, not withheld from them; in a group, sent since they joined. A deleted one is fine (clients
 * show "deleted"). Anything else is reply_not_found, whether it exists or not.
 */
async function checkReply(db: Db, senderId: number, id: number, destination: Destination): Promise<number> {
  const row = await findMessageRow(db, id)
  if (!row || !inDestination(row, senderId, destination)) {
    throw new AppError('reply_not_found', `No message ${id} in this conversation to reply to`)
  }
  return row.id
}

function inDestination(row: MessageRow, senderId: number, destination: Destination): boolean {
  if ('groupId' in destination) {
    return row.group_id === destination.groupId && Number(row.group_seq) >= destination.joinedSeq
  }
  const key = conversationKey(senderId, destination.recipientId)
  return (
    row.group_id === null &&
    row.user_low === key.user_low &&
    row.user_high === key.user_high &&
    isVisibleTo(row, senderId)
  )
}

/** Whether a resend (same clientId) asks for what the first send stored. */
export function sameContent(existing: MessageRow, body: SendMessageBody): boolean {
  if (existing.reply_to_id !== (body.replyToId ?? null)) return false
  if (body.forwardOf !== undefined) return existing.forwarded === 1
  return (
    existing.forwarded === 0 &&
    existing.text === (body.text ?? null) &&
    existing.image_id === (body.imageId ?? null) &&
    existing.file_id === (body.fileId ?? body.voice?.fileId ?? null)
  )
}
