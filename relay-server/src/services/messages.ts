import type {
  Message,
  MessageHistoryResponse,
  MessagePageQuery,
  MessageResponse,
  ReactionPayload,
  ReceiptPayload,
  SendMessageBody,
} from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, MessageRow } from '../db/schema'
import { AppError } from '../errors'
import { areMutualContacts, deliveryOf } from '../repositories/contacts'
import { sendSeqOf } from '../repositories/feed'
import { findUploadedImage } from '../repositories/images'
import * as messages from '../repositories/messages'
import * as reactions from '../repositories/reactions'
import { findMarkers, saveMarkers } from '../repositories/receipts'
import type { Committed, Committer, WriteContext } from './committer'
import type { Realtime } from './realtime'

/** Distinct emoji one user may put on one message. */
export const MAX_REACTIONS_PER_USER = 20

type Outcome = { message: Message; changed: boolean }

export class MessageService {
  readonly #db: Kysely<Database>
  readonly #committer: Committer
  readonly #realtime: Realtime

  constructor(deps: { db: Kysely<Database>; committer: Committer; realtime: Realtime }) {
    this.#db = deps.db
    this.#committer = deps.committer
    this.#realtime = deps.realtime
  }

  /**
   * Sends a message; a resend with the same clientId returns the first one and writes nothing.
   * To someone who blocked the sender it is accepted all the same, and kept for the sender only.
   */
  async send(senderId: number, body: SendMessageBody): Promise<MessageResponse> {
    const committed = await this.#committer.run(async (ctx): Promise<Outcome> => {
      const existing = await messages.findByClientId(ctx.trx, senderId, body.clientId)
      if (existing) {
        const changedSince = existing.edited_at !== null || existing.deleted_at !== null
        const same =
          existing.recipient_id === body.recipientId &&
          (changedSince ||
            (existing.text === (body.text ?? null) && existing.image_id === (body.imageId ?? null)))
        if (!same) {
          throw new AppError('client_id_conflict', 'That clientId was already used for another message')
        }
        return { message: (await messages.loadMessage(ctx.trx, existing.id))!, changed: false }
      }
      if (body.recipientId === senderId)
        throw new AppError('cannot_contact_self', 'You cannot message yourself')
      const delivery = await deliveryOf(ctx.trx, senderId, body.recipientId)
      if (delivery === 'refuse') throw notContacts()
      const image = body.imageId ? await findUploadedImage(ctx.trx, senderId, body.imageId) : undefined
      if (body.imageId && !image)
        throw new AppError('image_not_found', 'Attach an image you uploaded yourself')
      const row = await messages.insertMessage(ctx.trx, {
        sender_id: senderId,
        recipient_id: body.recipientId,
        client_id: body.clientId,
        text: body.text ?? null,
        image_id: image?.id ?? null,
        created_at: ctx.now,
        withheld: delivery === 'withhold',
      })
      const message = messages.toMessage(
        {
          ...row,
          image_mime: image?.mime ?? null,
          image_width: image?.width ?? null,
          image_height: image?.height ?? null,
          image_bytes: image?.bytes ?? null,
        },
        [],
      )
      ctx.append(senderId, 'message', message, row.id)
      if (delivery === 'deliver') ctx.append(body.recipientId, 'message', message, row.id)
      return { message, changed: true }
    })
    return this.#respond(senderId, committed, 'message')
  }

  async edit(userId: number, id: number, text: string): Promise<MessageResponse> {
    const committed = await this.#committer.run(async (ctx): Promise<Outcome> => {
      const row = await this.#visible(ctx, userId, id)
      if (row.sender_id !== userId)
        throw new AppError('not_message_sender', 'Only the sender can edit a message')
      if (row.deleted_at !== null) throw new AppError('message_deleted', 'A deleted message cannot be edited')
      await requireMayChange(ctx, row, userId)
      if (row.text === text) return { message: (await messages.loadMessage(ctx.trx, id))!, changed: false }
      await messages.editMessage(ctx.trx, row, text, ctx.now)
      return this.#announce(ctx, row, 'message_updated')
    })
    return this.#respond(userId, committed, 'message_updated')
  }

  /** Deletes for everyone: the text, its history and reactions go; a tombstone stays. */
  async delete(userId: number, id: number): Promise<MessageResponse> {
    const committed = await this.#committer.run(async (ctx): Promise<Outcome> => {
      const row = await this.#visible(ctx, userId, id)
      if (row.sender_id !== userId)
        throw new AppError('not_message_sender', 'Only the sender can delete a message')
      if (row.deleted_at !== null)
        return { message: (await messages.loadMessage(ctx.trx, id))!, changed: false }
      // The image goes with it: the recipient can no longer fetch it, and unused bytes get collected.
      await messages.tombstoneMessage(ctx.trx, id, ctx.now)
      return this.#announce(ctx, row, 'message_deleted')
    })
    return this.#respond(userId, committed, 'message_deleted')
  }

  /** Adds the emoji as the caller's reaction, or takes it away if it was there. */
  async react(userId: number, { messageId, emoji, present }: ReactionPayload): Promise<MessageResponse> {
    const committed = await this.#committer.run(async (ctx): Promise<Outcome> => {
      const row = await this.#visible(ctx, userId, messageId)
      if (row.deleted_at !== null)
        throw new AppError('message_deleted', 'A deleted message takes no reactions')
      await requireMayChange(ctx, row, userId)
      const mine = await reactions.emojiOf(ctx.trx, messageId, userId)
      const had = mine.includes(emoji)
      const want = present ?? !had
      if (want === had) return { message: (await messages.loadMessage(ctx.trx, messageId))!, changed: false }
      if (want) {
        if (mine.length >= MAX_REACTIONS_PER_USER) {
          throw new AppError('forbidden', `At most ${MAX_REACTIONS_PER_USER} reactions per message`)
        }
        await reactions.addReaction(ctx.trx, { messageId, userId, emoji, now: ctx.now })
      } else {
        await reactions.removeReaction(ctx.trx, { messageId, userId, emoji })
      }
      return this.#announce(ctx, row, 'reaction')
    })
    return this.#respond(userId, committed, 'reaction')
  }

  /**
   * Moves the caller's delivered or read marker in a conversation forward (never back); read
   * implies delivered. Both sides' feeds hear of it.
   */
  async receipt(
    userId: number,
    kind: 'delivered' | 'read',
    body: ReceiptPayload,
  ): Promise<{ seq: number | null }> {
    const committed = await this.#committer.run(async (ctx) => {
      await requireMutual(ctx, userId, body.with)
      if (!(await messages.isInConversation(ctx.trx, body.upTo, userId, body.with))) {
        throw new AppError('message_not_found', `Message ${body.upTo} is not in that conversation`)
      }
      const current = await findMarkers(ctx.trx, userId, body.with)
      const delivered = Math.max(current.deliveredUpTo, body.upTo)
      const read = kind === 'read' ? Math.max(current.readUpTo, body.upTo) : current.readUpTo
      const moved = kind === 'read' ? read !== current.readUpTo : delivered !== current.deliveredUpTo
      if (!moved) return false
      await saveMarkers(ctx.trx, userId, body.with, { deliveredUpTo: delivered, readUpTo: read }, ctx.now)
      const data = { userId, peerId: body.with, upTo: kind === 'read' ? read : delivered }
      ctx.append(userId, kind, data)
      ctx.append(body.with, kind, data)
      return true
    })
    return { seq: committed.events.find((e) => e.userId === userId)?.event.seq ?? null }
  }

  async page(userId: number, query: MessagePageQuery): Promise<{ messages: Message[]; hasMore: boolean }> {
    return messages.conversationPage(this.#db, userId, query.with, query.before, query.limit ?? 50)
  }

  async history(userId: number, id: number): Promise<MessageHistoryResponse> {
    const row = await messages.findMessageRow(this.#db, id)
    if (!row || !messages.isVisibleTo(row, userId))
      throw new AppError('message_not_found', `No message ${id}`)
    const message = (await messages.loadMessage(this.#db, id))!
    return { message, versions: await messages.messageVersions(this.#db, id) }
  }

  /** Typing goes live to the peer only; nothing is stored. Someone who blocked you hears none of it. */
  async typing(userId: number, to: number, typing: boolean): Promise<void> {
    const delivery = await deliveryOf(this.#db, userId, to)
    if (delivery === 'refuse') {
      throw new AppError('contact_required', 'You can only type to an accepted contact')
    }
    if (delivery === 'deliver') this.#realtime.toUsers([to], 'typing', { from: userId, typing })
  }

  async #visible(ctx: WriteContext, userId: number, id: number): Promise<MessageRow> {
    const row = await messages.findMessageRow(ctx.trx, id)
    if (!row || !messages.isVisibleTo(row, userId))
      throw new AppError('message_not_found', `No message ${id}`)
    return row
  }

  async #announce(
    ctx: WriteContext,
    row: MessageRow,
    type: 'message_updated' | 'message_deleted' | 'reaction',
  ): Promise<Outcome> {
    const message = (await messages.loadMessage(ctx.trx, row.id))!
    ctx.append(row.sender_id, type, message, row.id)
    if (row.withheld === 0) ctx.append(row.recipient_id, type, message, row.id)
    return { message, changed: true }
  }

  async #respond(userId: number, committed: Committed<Outcome>, type: string): Promise<MessageResponse> {
    const { message, changed } = committed.value
    const own = committed.events.find((e) => e.userId === userId && e.event.type === type)
    if (own) return { message, seq: own.event.seq }
    // A resend: point at the event the first send wrote (committed by now, even if in the same batch).
    const seq =
      !changed && type === 'message' ? ((await sendSeqOf(this.#db, userId, message.id)) ?? null) : null
    return { message, seq }
  }
}

function peerOf(row: MessageRow, userId: number): number {
  return row.sender_id === userId ? row.recipient_id : row.sender_id
}

function notContacts(): AppError {
  return new AppError('contact_required', 'You can only message an accepted contact who accepted you')
}

async function requireMutual(ctx: WriteContext, a: number, b: number): Promise<void> {
  if (!(await areMutualContacts(ctx.trx, a, b))) throw notContacts()
}

/**
 * Edits and reactions need mutual contacts; on a withheld message (only its sender sees it) they
 * need what its send needed, so a blocked sender can go on changing it without learning of the block.
 */
async function requireMayChange(ctx: WriteContext, row: MessageRow, userId: number): Promise<void> {
  if (row.withheld === 0) return requireMutual(ctx, userId, peerOf(row, userId))
  if ((await deliveryOf(ctx.trx, row.sender_id, row.recipient_id)) === 'refuse') throw notContacts()
}
