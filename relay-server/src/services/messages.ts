import type {
  HideMessageResponse,
  Message,
  MessageHistoryResponse,
  MessagePageQuery,
  MessageResponse,
  ReactionPayload,
  ReceiptPayload,
  SendMessageBody,
} from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, GroupMemberRow, MessageRow } from '../db/schema'
import { AppError } from '../errors'
import { areMutualContacts, deliveryFrom, deliveryOf } from '../repositories/contacts'
import { sendSeqOf } from '../repositories/feed'
import * as groups from '../repositories/groups'
import { newMessage } from '../repositories/message-rows'
import * as messages from '../repositories/messages'
import * as reactions from '../repositories/reactions'
import {
  findMarkers,
  type MarkerMove,
  markersAfter,
  type ReceiptKind,
  receiptChecks,
  recordMark,
  saveMarkers,
  saveMoves,
} from '../repositories/receipts'
import {
  type BulkContext,
  type BulkItem,
  type BulkOutcome,
  type BulkWrite,
  type Committed,
  type Committer,
  firstOfEach,
  type WriteContext,
} from './committer'
import { type GroupService, groupMessageMember, requireMember } from './groups'
import { resolveContent, sameContent } from './message-content'
import type { Realtime } from './realtime'

/** Distinct emoji one user may put on one message. */
export const MAX_REACTIONS_PER_USER = 20

/** `groupSeq`: in a group, the log entry the write added (or, for a resend, the one the send added). */
type Outcome = { message: Message; changed: boolean; groupSeq?: number | null }

export class MessageService {
  readonly #db: Kysely<Database>
  readonly #committer: Committer
  readonly #realtime: Realtime
  readonly #groups: GroupService
  /** Plain 1:1 text sends of a batch are written together (see TextSends). */
  readonly #textSends = new TextSends()
  /** And 1:1 receipts (see Receipts). */
  readonly #receipts = new Receipts()

  constructor(deps: {
    db: Kysely<Database>
    committer: Committer
    realtime: Realtime
    groups: GroupService
  }) {
    this.#db = deps.db
    this.#committer = deps.committer
    this.#realtime = deps.realtime
    this.#groups = deps.groups
  }

  /**
   * Sends a message; a resend with the same clientId returns the first one and writes nothing.
   * To someone who blocked the sender it is accepted all the same, and kept for the sender only.
   */
  async send(senderId: number, body: SendMessageBody): Promise<MessageResponse> {
    const bulk = isPlainText(body)
      ? {
          kind: this.#textSends,
          input: { senderId, recipientId: body.recipientId, clientId: body.clientId, text: body.text },
        }
      : undefined
    const committed = await this.#committer.run(async (ctx): Promise<Outcome> => {
      const existing = await messages.findByClientId(ctx.trx, senderId, body.clientId)
      if (existing) {
        const changedSince = existing.edited_at !== null || existing.deleted_at !== null
        const sameConversation =
          body.groupId !== undefined
            ? existing.group_id === body.groupId
            : existing.group_id === null && existing.recipient_id === body.recipientId
        const same = sameConversation && (changedSince || sameContent(existing, body))
        if (!same) {
          throw new AppError('client_id_conflict', 'That clientId was already used for another message')
        }
        const message = (await messages.loadMessage(ctx.trx, existing.id))!
        return { message, changed: false, groupSeq: existing.group_seq }
      }
      if (body.groupId !== undefined) return this.#sendToGroup(ctx, senderId, body.groupId, body)
      const recipientId = body.recipientId!
      if (recipientId === senderId) throw new AppError('cannot_contact_self', 'You cannot message yourself')
      const delivery = await deliveryOf(ctx.trx, senderId, recipientId)
      if (delivery === 'refuse') throw notContacts()
      const { content, image, file } = await resolveContent(ctx.trx, senderId, body, { recipientId }, (row) =>
        this.#mayRead(ctx.trx, row, senderId),
      )
      const row = await messages.insertMessage(ctx.trx, {
        ...content,
        sender_id: senderId,
        recipient_id: recipientId,
        client_id: body.clientId,
        created_at: ctx.now,
        withheld: delivery === 'withhold',
      })
      const message = newMessage(row, image, file)
      ctx.append(senderId, 'message', message, row.id)
      if (delivery === 'deliver') ctx.append(recipientId, 'message', message, row.id)
      return { message, changed: true }
    }, bulk)
    return this.#respond(senderId, committed, 'message')
  }

  /**
   * A group message: its row and one entry in the group's log, whatever the group's size; the
   * members' sockets get it through the group's room. Sending marks the group read up to it for
   * the sender.
   */
  async #sendToGroup(
    ctx: WriteContext,
    senderId: number,
    groupId: number,
    body: SendMessageBody,
  ): Promise<Outcome> {
    const member = await requireMember(ctx.trx, groupId, senderId)
    const destination = { groupId, joinedSeq: Number(member.joined_seq) }
    const { content, image, file } = await resolveContent(ctx.trx, senderId, body, destination, (row) =>
      this.#mayRead(ctx.trx, row, senderId),
    )
    const seq = await groups.nextGroupSeq(ctx.trx, groupId)
    const row = await messages.insertGroupMessage(ctx.trx, {
      ...content,
      sender_id: senderId,
      group_id: groupId,
      group_seq: seq,
      client_id: body.clientId,
      created_at: ctx.now,
    })
    const message = newMessage(row, image, file)
    await this.#groups.logMessage(ctx, groupId, seq, 'message', message, seq)
    await groups.moveMarkers(ctx.trx, groupId, senderId, row.id, true, ctx.now)
    return { message, changed: true, groupSeq: seq }
  }

  async edit(userId: number, id: number, text: string): Promise<MessageResponse> {
    const committed = await this.#committer.run(async (ctx): Promise<Outcome> => {
      const row = await this.#visible(ctx, userId, id)
      if (row.sender_id !== userId)
        throw new AppError('not_message_sender', 'Only the sender can edit a message')
      if (row.deleted_at !== null) throw new AppError('message_deleted', 'A deleted message cannot be edited')
      if (row.group_id === null) await requireMayChange(ctx, row, userId)
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
      // In a group its owner and admins may delete anyone's message too.
      const role = row.group_id === null ? undefined : (await groupMessageMember(ctx.trx, row, userId))?.role
      const moderator = role === 'owner' || role === 'admin'
      if (row.sender_id !== userId && !moderator)
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
      if (row.group_id === null) await requireMayChange(ctx, row, userId)
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
    if (body.group !== undefined) return this.#groups.receipt(userId, kind, body.group, body.upTo)
    const peerId = body.with!
    const input: ReceiptInput = { userId, peerId, kind, upTo: body.upTo }
    const committed = await this.#committer.run(
      async (ctx) => {
        await requireMutual(ctx, userId, peerId)
        if (!(await messages.isInConversation(ctx.trx, body.upTo, userId, peerId)))
          throw notInConversation(input)
        const move = markersAfter(await findMarkers(ctx.trx, userId, peerId), kind, body.upTo)
        if (!move) return false
        await saveMarkers(ctx.trx, userId, peerId, move.markers, ctx.now)
        await recordMark(ctx.trx, { userId, place: { peerId }, kind, upTo: move.upTo, at: ctx.now })
        appendReceipt(ctx.append, input, move.upTo, ctx.now)
        return true
      },
      { kind: this.#receipts, input },
    )
    return { seq: committed.events.find((e) => e.userId === userId)?.event.seq ?? null }
  }

  async page(userId: number, query: MessagePageQuery): Promise<{ messages: Message[]; hasMore: boolean }> {
    if (query.group !== undefined) {
      const member = await requireMember(this.#db, query.group, userId)
      const reader = { userId, sinceSeq: Number(member.joined_seq) }
      return messages.groupPage(this.#db, query.group, reader, query.before, query.limit ?? 50)
    }
    return messages.conversationPage(this.#db, userId, query.with!, query.before, query.limit ?? 50)
  }

  /**
   * Deletes a message for the caller only: it leaves their pages and catch-ups, and their devices
   * hear `message_hidden` (nobody else does). Hiding it again changes nothing.
   */
  async hide(userId: number, id: number): Promise<HideMessageResponse> {
    const committed = await this.#committer.run(async (ctx) => {
      await this.#visible(ctx, userId, id)
      if (!(await messages.hideMessage(ctx.trx, userId, id, ctx.now))) return false
      ctx.append(userId, 'message_hidden', { messageId: id })
      return true
    })
    return { seq: committed.events.find((e) => e.userId === userId)?.event.seq ?? null }
  }

  async history(userId: number, id: number): Promise<MessageHistoryResponse> {
    const row = await messages.findMessageRow(this.#db, id)
    if (!row || !(await this.#mayRead(this.#db, row, userId)))
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
    if (!row || !(await this.#mayRead(ctx.trx, row, userId)))
      throw new AppError('message_not_found', `No message ${id}`)
    return row
  }

  /** 1:1: its sender, or its recipient unless withheld; group: a member who joined before it was sent. */
  async #mayRead(db: Kysely<Database>, row: MessageRow, userId: number): Promise<boolean> {
    if (row.group_id === null) return messages.isVisibleTo(row, userId)
    const member: GroupMemberRow | undefined = await groupMessageMember(db, row, userId)
    return member !== undefined
  }

  async #announce(
    ctx: WriteContext,
    row: MessageRow,
    type: 'message_updated' | 'message_deleted' | 'reaction',
  ): Promise<Outcome> {
    const message = (await messages.loadMessage(ctx.trx, row.id))!
    if (row.group_id !== null) {
      const seq = await this.#groups.announceMessage(ctx, row, type, message)
      return { message, changed: true, groupSeq: seq }
    }
    ctx.append(row.sender_id, type, message, row.id)
    if (row.withheld === 0) ctx.append(row.recipient_id!, type, message, row.id)
    return { message, changed: true }
  }

  async #respond(userId: number, committed: Committed<Outcome>, type: string): Promise<MessageResponse> {
    const { message, changed, groupSeq } = committed.value
    if (message.groupId !== null) return { message, seq: groupSeq ?? null }
    const own = committed.events.find((e) => e.userId === userId && e.event.type === type)
    if (own) return { message, seq: own.event.seq }
    // A resend: point at the event the first send wrote (committed by now, even if in the same batch).
    const seq =
      !changed && type === 'message' ? ((await sendSeqOf(this.#db, userId, message.id)) ?? null) : null
    return { message, seq }
  }
}

/** A 1:1 send of text alone: no picture, file, voice, forward or reply to check. */
function isPlainText(body: SendMessageBody): body is SendMessageBody & { recipientId: number; text: string } {
  return (
    body.recipientId !== undefined &&
    body.text !== undefined &&
    body.groupId === undefined &&
    body.imageId === undefined &&
    body.fileId === undefined &&
    body.voice === undefined &&
    body.forwardOf === undefined &&
    body.replyToId === undefined
  )
}

interface TextSend {
  senderId: number
  recipientId: number
  clientId: string
  text: string
}

/**
 * The plain text sends of a batch in two statements (checks, then one multi-row insert) instead of
 * five each (on PostgreSQL, five round trips), doing what `send` does for each: a reused clientId
 * goes back to `send`'s own operation (a resend, a conflict, or a repeat within the batch, which
 * finds the first once it is inserted).
 */
class TextSends implements BulkWrite<TextSend, Outcome> {
  async runAll({ trx, now }: BulkContext, items: BulkItem<TextSend>[]): Promise<BulkOutcome<Outcome>[]> {
    const outcomes: BulkOutcome<Outcome>[] = items.map(({ input }) =>
      input.recipientId === input.senderId
        ? { ok: false, error: new AppError('cannot_contact_self', 'You cannot message yourself') }
        : { ok: 'alone' },
    )
    const checked = outcomes.flatMap((o, k) => (o.ok === false ? [] : [k]))
    const checks = await messages.sendChecks(
      trx,
      checked.map((k) => items[k]!.input),
    )
    const inserting: { k: number; delivery: 'deliver' | 'withhold' }[] = []
    const taken = new Set<string>()
    for (const [c, k] of checked.entries()) {
      const { input } = items[k]!
      const check = checks[c]!
      const key = `${input.senderId}:${input.clientId}`
      if (check.existingId !== null || taken.has(key)) continue
      const delivery = deliveryFrom(check.senders, check.recipients)
      if (delivery === 'refuse') {
        outcomes[k] = { ok: false, error: notContacts() }
        continue
      }
      taken.add(key)
      inserting.push({ k, delivery })
    }
    const rows = await messages.insertTextMessages(
      trx,
      now,
      inserting.map(({ k, delivery }) => ({ ...items[k]!.input, withheld: delivery === 'withhold' })),
    )
    for (const [i, { k, delivery }] of inserting.entries()) {
      const row = rows[i]!
      const { input, append } = items[k]!
      const message = newMessage(row, undefined, undefined)
      append(input.senderId, 'message', message, row.id)
      if (delivery === 'deliver') append(input.recipientId, 'message', message, row.id)
      outcomes[k] = { ok: true, value: { message, changed: true } }
    }
    return outcomes
  }
}

interface ReceiptInput {
  userId: number
  peerId: number
  kind: ReceiptKind
  upTo: number
}

function notInConversation(input: ReceiptInput): AppError {
  return new AppError('message_not_found', `Message ${input.upTo} is not in that conversation`)
}

/** Both sides' feeds hear that `input.userId`'s marker moved to `upTo`. */
function appendReceipt(append: WriteContext['append'], input: ReceiptInput, upTo: number, at: number): void {
  const data = { userId: input.userId, peerId: input.peerId, upTo, at }
  append(input.userId, input.kind, data)
  append(input.peerId, input.kind, data)
}

/**
 * The 1:1 receipts of a batch in two statements (checks, then markers with their marks; three on
 * SQLite) instead of five each,
 * doing what `receipt` does for each. A second receipt of the same person in the same
 * conversation goes back to `receipt`'s own operation, which runs after these and so sees the
 * first one's marker.
 */
class Receipts implements BulkWrite<ReceiptInput, boolean> {
  async runAll({ trx, now }: BulkContext, items: BulkItem<ReceiptInput>[]): Promise<BulkOutcome<boolean>[]> {
    const outcomes: BulkOutcome<boolean>[] = items.map(() => ({ ok: 'alone' }))
    const firsts = firstOfEach(items, (input) => `${input.userId}:${input.peerId}`)
    const checks = await receiptChecks(
      trx,
      firsts.map((k) => ({
        ownerId: items[k]!.input.userId,
        peerId: items[k]!.input.peerId,
        upTo: items[k]!.input.upTo,
      })),
    )
    const moves: { k: number; move: MarkerMove }[] = []
    for (const [c, k] of firsts.entries()) {
      const { input } = items[k]!
      const check = checks[c]!
      if (!check.mutual) outcomes[k] = { ok: false, error: notContacts() }
      else if (!check.inConversation) outcomes[k] = { ok: false, error: notInConversation(input) }
      else {
        const move = markersAfter(check.markers, input.kind, input.upTo)
        if (move) moves.push({ k, move })
        else outcomes[k] = { ok: true, value: false }
      }
    }
    await saveMoves(
      trx,
      moves.map(({ k, move }) => {
        const { input } = items[k]!
        return { ownerId: input.userId, peerId: input.peerId, kind: input.kind, ...move }
      }),
      now,
    )
    for (const { k, move } of moves) {
      const { input, append } = items[k]!
      appendReceipt(append, input, move.upTo, now)
      outcomes[k] = { ok: true, value: true }
    }
    return outcomes
  }
}

function peerOf(row: MessageRow, userId: number): number {
  return row.sender_id === userId ? row.recipient_id! : row.sender_id
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
  if ((await deliveryOf(ctx.trx, row.sender_id, row.recipient_id!)) === 'refuse') throw notContacts()
}
