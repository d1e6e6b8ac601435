import type {
  AddMembersResponse,
  CreateGroupBody,
  CreateInviteBody,
  Group,
  GroupChange,
  GroupEventsQuery,
  GroupEventsResponse,
  GroupEventType,
  GroupInvite,
  GroupListResponse,
  GroupMember,
  GroupPreview,
  GroupResponse,
  GroupRole,
  MemberResponse,
  Message,
  MessageReceiptsResponse,
  PatchGroupBody,
} from '@parley/shared'
import { DEFAULT_GROUP_EVENTS_PAGE } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, GroupMemberRow, MessageRow } from '../db/schema'
import { AppError } from '../errors'
import { randomAlphanumeric } from '../random'
import { areMutualContacts } from '../repositories/contacts'
import * as invites from '../repositories/group-invites'
import * as groups from '../repositories/groups'
import { findUploadedImage } from '../repositories/images'
import { findMessageRow } from '../repositories/messages'
import {
  findMarkers,
  forgetGroupMarks,
  forgetMarks,
  type ReachedAt,
  reachedAt,
} from '../repositories/receipts'
import {
  type BulkContext,
  type BulkItem,
  type BulkOutcome,
  type BulkWrite,
  type Committer,
  firstOfEach,
  type WriteContext,
} from './committer'
import type { ImageService } from './images'
import type { Realtime } from './realtime'

/** Letters and digits: 22 of them carry about 131 random bits. */
const INVITE_CODE_LENGTH = 22

export interface GroupServiceOptions {
  db: Kysely<Database>
  committer: Committer
  realtime: Realtime
  images: ImageService
  maxMembers: number
  clock?: () => number
  /** How often, at most, a group hears its "everyone received / read" markers move. */
  receiptIntervalMs?: number
  /** How often, at most, one member's "typing" goes to a group. */
  typingIntervalMs?: number
}

/**
 * Group conversations. Every change to a group (a message and what happens to it, a member
 * added or gone, a role, the title or picture) is one entry of the group's log, with the next
 * seq of that group, given in the committing transaction: one order that every member's devices
 * see, which is what an MLS delivery service must provide. A group message costs its row and
 * one log row whatever the group's size; it reaches members live through the group's Socket.IO
 * room and later through GET /groups/:id/events.
 */
export class GroupService {
  readonly #db: Kysely<Database>
  readonly #committer: Committer
  readonly #realtime: Realtime
  readonly #images: ImageService
  readonly #maxMembers: number
  readonly #clock: () => number
  readonly #receiptIntervalMs: number
  readonly #typingIntervalMs: number
  readonly #markerTimers = new Map<number, NodeJS.Timeout>()
  readonly #sentMarkers = new Map<number, { deliveredUpTo: number; readUpTo: number }>()
  /** Group receipts of a batch are written together (see GroupReceipts). */
  readonly #receipts = new GroupReceipts((groupId) => this.#scheduleMarkers(groupId))
  readonly #typingSince = new Map<string, number>()

  constructor(options: GroupServiceOptions) {
    this.#db = options.db
    this.#committer = options.committer
    this.#realtime = options.realtime
    this.#images = options.images
    this.#maxMembers = options.maxMembers
    this.#clock = options.clock ?? Date.now
    this.#receiptIntervalMs = options.receiptIntervalMs ?? 1000
    this.#typingIntervalMs = options.typingIntervalMs ?? 2000
  }

  get maxMembers(): number {
    return this.#maxMembers
  }

  async create(userId: number, body: CreateGroupBody): Promise<GroupResponse> {
    const others = [...new Set(body.memberIds)].filter((id) => id !== userId)
    const { value } = await this.#committer.run(async (ctx) => {
      if (others.length + 1 > this.#maxMembers) throw groupFull(this.#maxMembers)
      await this.#requireAddable(ctx, userId, others)
      const row = await groups.insertGroup(ctx.trx, {
        title: body.title.trim(),
        created_at: ctx.now,
        created_by: userId,
      })
      const seq = await groups.nextGroupSeq(ctx.trx, row.id)
      const joined = [
        { userId, role: 'owner' as const, joinedAt: ctx.now },
        ...others.map((id) => ({ userId: id, role: 'member' as const, joinedAt: ctx.now })),
      ]
      await groups.insertMembers(
        ctx.trx,
        joined.map((m) => ({
          group_id: row.id,
          user_id: m.userId,
          role: m.role,
          joined_at: ctx.now,
          joined_seq: seq,
          marker: 0,
        })),
      )
      await groups.addToMemberCount(ctx.trx, row.id, joined.length)
      const ids = joined.map((m) => m.userId)
      ctx.afterCommit(() => this.#realtime.joinGroup(ids, row.id))
      await this.#logChange(ctx, row.id, seq, userId, {
        kind: 'members_added',
        members: joined,
        via: 'created',
      })
      const snapshot = { ...row, head_seq: seq, member_count: joined.length }
      for (const m of joined) ctx.append(m.userId, 'group_added', groups.toGroup(snapshot, m.role, joined))
      return { group: groups.toGroup(snapshot, 'owner', joined), seq }
    })
    return value
  }

  async list(userId: number): Promise<GroupListResponse> {
    const rows = await groups.groupsOf(this.#db, userId)
    return { groups: rows.map((row) => groups.toGroup(row, row.role)) }
  }

  async get(userId: number, groupId: number): Promise<Group> {
    const member = await requireMember(this.#db, groupId, userId)
    const row = await groups.findGroup(this.#db, groupId)
    if (!row) throw groupNotFound(groupId)
    return groups.toGroup(row, member.role, await groups.membersOf(this.#db, groupId))
  }

  async roomsOf(userId: number): Promise<number[]> {
    return groups.groupIdsOf(this.#db, userId)
  }

  async patch(userId: number, groupId: number, body: PatchGroupBody): Promise<GroupResponse> {
    const avatar = body.avatarImageId
    // Checked again when the change commits; first, so that a member learns nothing about the image.
    await requireAdmin(this.#db, groupId, userId)
    if (avatar) {
      if (!(await findUploadedImage(this.#db, userId, avatar))) {
        throw new AppError('image_not_found', "Use an image you uploaded yourself as the group's picture")
      }
      await this.#images.prepareAvatar(avatar)
    }
    const { value } = await this.#committer.run(async (ctx) => {
      const member = await requireAdmin(ctx.trx, groupId, userId)
      const row = (await groups.findGroup(ctx.trx, groupId))!
      let seq: number | null = null
      const title = body.title?.trim()
      if (title !== undefined && title !== row.title) {
        await groups.updateGroup(ctx.trx, groupId, { title })
        seq = await this.#logChange(ctx, groupId, null, userId, { kind: 'title', title })
      }
      if (avatar !== undefined && avatar !== row.avatar_image_id) {
        await groups.updateGroup(ctx.trx, groupId, { avatar_image_id: avatar })
        seq = await this.#logChange(ctx, groupId, null, userId, { kind: 'avatar', avatar })
      }
      const updated = (await groups.findGroup(ctx.trx, groupId))!
      return { group: groups.toGroup(updated, member.role), seq }
    })
    return value
  }

  async events(userId: number, groupId: number, query: GroupEventsQuery): Promise<GroupEventsResponse> {
    const member = await requireMember(this.#db, groupId, userId)
    return groups.readGroupEvents(
      this.#db,
      groupId,
      { userId, joinedSeq: Number(member.joined_seq) },
      query.after,
      query.limit ?? DEFAULT_GROUP_EVENTS_PAGE,
    )
  }

  /** Adds contacts of the caller; those already in are passed over, so a resend adds nobody twice. */
  async addMembers(userId: number, groupId: number, userIds: readonly number[]): Promise<AddMembersResponse> {
    const { value } = await this.#committer.run(async (ctx) => {
      await requireAdmin(ctx.trx, groupId, userId)
      const present = await groups.existingMembers(ctx.trx, groupId, userIds)
      const fresh = [...new Set(userIds)].filter((id) => !present.has(id))
      if (fresh.length === 0) return { added: [], seq: null }
      const row = (await groups.findGroup(ctx.trx, groupId))!
      if (row.member_count + fresh.length > this.#maxMembers) throw groupFull(this.#maxMembers)
      await this.#requireAddable(ctx, userId, fresh)
      const added = fresh.map((id) => ({ userId: id, role: 'member' as const, joinedAt: ctx.now }))
      const seq = await this.#join(ctx, groupId, userId, added, 'added')
      return { added, seq }
    })
    return value
  }

  /** Removes a member, or the caller themselves (leaving). Removing someone already gone changes nothing. */
  async removeMember(userId: number, groupId: number, targetId: number): Promise<{ seq: number | null }> {
    const { value } = await this.#committer.run(async (ctx) => {
      const actor = await requireMember(ctx.trx, groupId, userId)
      const leaving = targetId === userId
      if (!leaving) requireAdminRole(actor)
      const target = leaving ? actor : await groups.findMember(ctx.trx, groupId, targetId)
      if (!target) return { seq: null }
      if (!leaving && target.role === 'owner') {
        throw new AppError('forbidden', 'Nobody removes the owner of a group')
      }
      return { seq: await this.#remove(ctx, groupId, userId, target, leaving ? 'left' : 'removed') }
    })
    return value
  }

  /**
   * Deletes a group (its owner only): the log's last entry says so, live to the members still in
   * the room; then every member is let go at once (their rows, their sockets out of the room,
   * `group_removed` with reason `deleted` in each feed) and its invites stop working. The group
   * then answers everyone as one that does not exist; members keep what their devices have.
   */
  async deleteGroup(userId: number, groupId: number): Promise<{ seq: number }> {
    const { value } = await this.#committer.run(async (ctx) => {
      const actor = await requireMember(ctx.trx, groupId, userId)
      if (actor.role !== 'owner') throw notAdmin('Only the owner can delete the group')
      const seq = await this.#logChange(ctx, groupId, null, userId, { kind: 'deleted' })
      const members = await groups.deleteAllMembers(ctx.trx, groupId)
      await forgetGroupMarks(ctx.trx, groupId)
      await invites.revokeInvitesOf(ctx.trx, groupId, ctx.now)
      for (const id of members) ctx.append(id, 'group_removed', { groupId, by: userId, reason: 'deleted' })
      ctx.afterCommit(() => {
        this.#realtime.leaveGroup(members, groupId)
        this.#sentMarkers.delete(groupId)
      })
      return { seq }
    })
    return value
  }

  /**
   * Erasure: the user leaves up to `limit` of their groups, each as a leave (the log entry, owner
   * succession, their sockets out of the room, their markers gone with their membership). How many.
   */
  async leaveGroupsOf(ctx: WriteContext, userId: number, limit: number): Promise<number> {
    const memberships = await groups.membershipsOf(ctx.trx, userId, limit)
    for (const member of memberships) await this.#remove(ctx, member.group_id, userId, member, 'left')
    return memberships.length
  }

  /** Takes `target` out of the group (`by` is who did it) and hands the group on if they owned it; the entry's seq. */
  async #remove(
    ctx: WriteContext,
    groupId: number,
    by: number,
    target: GroupMemberRow,
    reason: 'left' | 'removed',
  ): Promise<number> {
    const targetId = target.user_id
    // Their sockets leave the room first: nothing of the group reaches them after this.
    ctx.afterCommit(() => this.#realtime.leaveGroup([targetId], groupId))
    await groups.deleteMember(ctx.trx, groupId, targetId)
    // Their receipts go with their membership: "seen by" names members only.
    await forgetMarks(ctx.trx, targetId, groupId)
    await groups.addToMemberCount(ctx.trx, groupId, -1)
    const seq = await this.#logChange(ctx, groupId, null, by, {
      kind: 'member_removed',
      userId: targetId,
    })
    ctx.append(targetId, 'group_removed', { groupId, by, reason })
    if (target.role === 'owner') {
      const successor = await groups.successorOf(ctx.trx, groupId)
      if (successor !== undefined) await this.#changeRole(ctx, groupId, by, successor, 'owner')
    }
    ctx.afterCommit(() => this.#scheduleMarkers(groupId))
    return seq
  }

  /** Promotes or demotes a member; `owner` hands the group over (the old owner becomes an admin). */
  async patchMember(
    userId: number,
    groupId: number,
    targetId: number,
    role: GroupRole,
  ): Promise<MemberResponse> {
    const { value } = await this.#committer.run(async (ctx) => {
      const actor = await requireAdmin(ctx.trx, groupId, userId)
      const target = await groups.findMember(ctx.trx, groupId, targetId)
      if (!target) throw new AppError('user_not_found', `User ${targetId} is not in this group`)
      if (target.role === role) return { member: groups.toMember(target), seq: null }
      if (role === 'owner') {
        if (actor.role !== 'owner') throw notAdmin('Only the owner can hand the group over')
        const seq = await this.#changeRole(ctx, groupId, userId, targetId, 'owner')
        await this.#changeRole(ctx, groupId, userId, userId, 'admin')
        return { member: { ...groups.toMember(target), role }, seq }
      }
      if (target.role === 'owner') {
        throw new AppError('forbidden', 'Nobody demotes the owner; the owner can hand the group over')
      }
      const seq = await this.#changeRole(ctx, groupId, userId, targetId, role)
      return { member: { ...groups.toMember(target), role }, seq }
    })
    return value
  }

  async createInvite(userId: number, groupId: number, body: CreateInviteBody): Promise<GroupInvite> {
    const { value } = await this.#committer.run(async (ctx) => {
      await requireAdmin(ctx.trx, groupId, userId)
      const row = await invites.insertGroupInvite(ctx.trx, {
        code: randomAlphanumeric(INVITE_CODE_LENGTH),
        group_id: groupId,
        max_uses: body.maxUses ?? null,
        expires_at: body.expiresAt ?? null,
        created_by: userId,
        created_at: ctx.now,
      })
      return invites.toGroupInvite(row)
    })
    return value
  }

  async listInvites(userId: number, groupId: number): Promise<GroupInvite[]> {
    await requireAdmin(this.#db, groupId, userId)
    return (await invites.usableInvitesOf(this.#db, groupId, this.#clock())).map(invites.toGroupInvite)
  }

  async revokeInvite(userId: number, groupId: number, code: string): Promise<void> {
    await this.#committer.run(async (ctx) => {
      await requireAdmin(ctx.trx, groupId, userId)
      if (!(await invites.revokeGroupInvite(ctx.trx, groupId, code, ctx.now))) throw inviteNotFound()
    })
  }

  async preview(code: string): Promise<GroupPreview> {
    const invite = await invites.findUsableInvite(this.#db, code, this.#clock())
    const row = invite && (await groups.findGroup(this.#db, invite.group_id))
    if (!row) throw inviteNotFound()
    return groups.toPreview(row)
  }

  /** Joins with a code; joining a group you are in already changes nothing and uses nothing up. */
  async join(userId: number, code: string): Promise<GroupResponse> {
    const { value } = await this.#committer.run(async (ctx) => {
      const known = await invites.findInvite(ctx.trx, code)
      const existing = known && (await groups.findMember(ctx.trx, known.group_id, userId))
      if (known && existing) {
        const row = (await groups.findGroup(ctx.trx, known.group_id))!
        const members = await groups.membersOf(ctx.trx, known.group_id)
        return { group: groups.toGroup(row, existing.role, members), seq: null }
      }
      const invite = await invites.findUsableInvite(ctx.trx, code, ctx.now)
      if (!invite) throw inviteNotFound()
      const groupId = invite.group_id
      const row = (await groups.findGroup(ctx.trx, groupId))!
      if (row.member_count + 1 > this.#maxMembers) throw groupFull(this.#maxMembers)
      if (!(await invites.useInvite(ctx.trx, code))) throw inviteNotFound()
      const member = { userId, role: 'member' as const, joinedAt: ctx.now }
      const seq = await this.#join(ctx, groupId, userId, [member], 'invite')
      const updated = (await groups.findGroup(ctx.trx, groupId))!
      return { group: groups.toGroup(updated, 'member', await groups.membersOf(ctx.trx, groupId)), seq }
    })
    return value
  }

  /**
   * Moves the caller's marker in a group: one row, whatever the group's size. Their own devices
   * hear of it through their feed; the group hears only of the "everyone" markers, at most once
   * per interval and only when they move.
   */
  async receipt(
    userId: number,
    kind: 'delivered' | 'read',
    groupId: number,
    upTo: number,
  ): Promise<{ seq: number | null }> {
    const input: GroupReceipt = { userId, groupId, kind, upTo }
    const committed = await this.#committer.run(
      async (ctx) => {
        const member = await requireMember(ctx.trx, groupId, userId)
        const message = await findMessageRow(ctx.trx, upTo)
        if (!message || message.group_id !== groupId || Number(message.group_seq) < member.joined_seq) {
          throw notInGroup(input)
        }
        if (!(await groups.moveMarkers(ctx.trx, groupId, userId, upTo, kind === 'read', ctx.now))) return
        ctx.append(userId, kind, { userId, groupId, upTo, at: ctx.now })
        ctx.afterCommit(() => this.#scheduleMarkers(groupId))
      },
      { kind: this.#receipts, input },
    )
    return { seq: committed.events.find((e) => e.userId === userId)?.event.seq ?? null }
  }

  /** Typing goes live to the other members online, at most once per interval from one member. */
  async typing(userId: number, groupId: number, typing: boolean): Promise<void> {
    await requireMember(this.#db, groupId, userId)
    const key = `${groupId}:${userId}`
    const now = this.#clock()
    const since = this.#typingSince.get(key)
    if (typing) {
      if (since !== undefined && now - since < this.#typingIntervalMs) return
      if (this.#typingSince.size > 10_000) this.#forgetOldTyping(now)
      this.#typingSince.set(key, now)
    } else {
      if (since === undefined) return
      this.#typingSince.delete(key)
    }
    this.#realtime.toGroup(groupId, [userId], 'typing', { from: userId, typing, groupId })
  }

  /** "Seen by": who received and who read a message; for its sender only. */
  async messageReceipts(userId: number, messageId: number): Promise<MessageReceiptsResponse> {
    const row = await findMessageRow(this.#db, messageId)
    if (!row) throw messageNotFound(messageId)
    if (row.group_id !== null) {
      const member = await groups.findMember(this.#db, row.group_id, userId)
      if (!member || Number(row.group_seq) < member.joined_seq) throw messageNotFound(messageId)
      if (row.sender_id !== userId) throw notSender()
      const receipts = await groups.receiptsOf(this.#db, row.group_id, messageId, userId)
      return withTimes(
        receipts,
        await reachedAt(this.#db, { groupId: row.group_id }, readers(receipts), messageId),
      )
    }
    const visible = row.sender_id === userId || (row.recipient_id === userId && row.withheld === 0)
    if (!visible) throw messageNotFound(messageId)
    if (row.sender_id !== userId) throw notSender()
    const recipient = row.recipient_id!
    if (row.withheld !== 0) return { read: [], delivered: [] }
    const markers = await findMarkers(this.#db, recipient, userId)
    const receipts =
      markers.readUpTo >= messageId
        ? { read: [recipient], delivered: [] }
        : markers.deliveredUpTo >= messageId
          ? { read: [], delivered: [recipient] }
          : { read: [], delivered: [] }
    return withTimes(receipts, await reachedAt(this.#db, { peerId: userId }, readers(receipts), messageId))
  }

  /**
   * A change to a group message (edited, deleted, a reaction) as the next entry of its group's log,
   * sent live after commit; the entry's seq.
   */
  async announceMessage(
    ctx: WriteContext,
    row: MessageRow,
    type: 'message_updated' | 'message_deleted' | 'reaction',
    message: Message,
  ): Promise<number> {
    const groupId = row.group_id!
    const seq = await groups.nextGroupSeq(ctx.trx, groupId)
    await this.logMessage(ctx, groupId, seq, type, message, Number(row.group_seq))
    return seq
  }

  /** Appends a message entry to the group's log (at `seq`, already taken) and sends it live after commit. */
  async logMessage(
    ctx: WriteContext,
    groupId: number,
    seq: number,
    type: Extract<GroupEventType, 'message' | 'message_updated' | 'message_deleted' | 'reaction'>,
    message: Message,
    /** The log entry that brought the message. */
    messageSeq: number,
  ): Promise<void> {
    await groups.insertGroupEvent(ctx.trx, {
      groupId,
      seq,
      type,
      messageId: message.id,
      payload: null,
      now: ctx.now,
    })
    // A change to an older message is not news to those who joined after it was sent: they never had it.
    const newcomers = type === 'message' ? [] : await groups.joinedAfter(ctx.trx, groupId, messageSeq)
    const createdAt = ctx.now
    ctx.afterCommit(() =>
      this.#realtime.toGroup(groupId, newcomers, 'group_event', {
        groupId,
        seq,
        type,
        createdAt,
        data: message,
      }),
    )
    if (type === 'message') ctx.afterCommit(() => this.#scheduleMarkers(groupId))
  }

  /** Stops the timers of pending "everyone" markers (the relay is closing). */
  close(): void {
    for (const timer of this.#markerTimers.values()) clearTimeout(timer)
    this.#markerTimers.clear()
  }

  async #requireAddable(ctx: WriteContext, adderId: number, userIds: readonly number[]): Promise<void> {
    for (const id of userIds) {
      // Mutual accepted contacts: someone who blocked the adder is not an accepted contact of theirs.
      if (!(await areMutualContacts(ctx.trx, adderId, id))) {
        throw new AppError(
          'contact_required',
          `User ${id} is not a contact of yours who accepted you; they can join with an invite code`,
        )
      }
    }
  }

  /** Adds members (the log entry, their rows, their feeds, their sockets) and returns the entry's seq. */
  async #join(
    ctx: WriteContext,
    groupId: number,
    by: number,
    added: GroupMember[],
    via: 'added' | 'invite',
  ): Promise<number> {
    const seq = await groups.nextGroupSeq(ctx.trx, groupId)
    // A newcomer never sees older messages, so those must not hold back the "everyone" ticks.
    const marker = await groups.lastMessageId(ctx.trx, groupId)
    await groups.insertMembers(
      ctx.trx,
      added.map((m) => ({
        group_id: groupId,
        user_id: m.userId,
        role: m.role,
        joined_at: m.joinedAt,
        joined_seq: seq,
        marker,
      })),
    )
    await groups.addToMemberCount(ctx.trx, groupId, added.length)
    const ids = added.map((m) => m.userId)
    ctx.afterCommit(() => this.#realtime.joinGroup(ids, groupId))
    await this.#logChange(ctx, groupId, seq, by, { kind: 'members_added', members: added, via })
    const row = (await groups.findGroup(ctx.trx, groupId))!
    const members = await groups.membersOf(ctx.trx, groupId)
    for (const m of added) ctx.append(m.userId, 'group_added', groups.toGroup(row, m.role, members))
    return seq
  }

  async #changeRole(
    ctx: WriteContext,
    groupId: number,
    by: number,
    userId: number,
    role: GroupRole,
  ): Promise<number> {
    await groups.setRole(ctx.trx, groupId, userId, role)
    const seq = await this.#logChange(ctx, groupId, null, by, { kind: 'role', userId, role })
    // The one member the change is about hears of it in their feed too.
    ctx.append(userId, 'group_updated', { groupId, seq, by, change: { kind: 'role', userId, role } })
    return seq
  }

  /** Appends a change of the group to its log (at `seq`, or the next one) and sends it live after commit. */
  async #logChange(
    ctx: WriteContext,
    groupId: number,
    seq: number | null,
    by: number,
    change: GroupChange,
  ): Promise<number> {
    const at = seq ?? (await groups.nextGroupSeq(ctx.trx, groupId))
    const data = { groupId, seq: at, by, change }
    await groups.insertGroupEvent(ctx.trx, {
      groupId,
      seq: at,
      type: 'group_updated',
      messageId: null,
      payload: data,
      now: ctx.now,
    })
    const createdAt = ctx.now
    ctx.afterCommit(() =>
      this.#realtime.toGroup(groupId, [], 'group_event', {
        groupId,
        seq: at,
        type: 'group_updated',
        createdAt,
        data,
      }),
    )
    return at
  }

  /** Sends the group its "everyone" markers after the interval, if they moved since last sent. */
  #scheduleMarkers(groupId: number): void {
    if (this.#markerTimers.has(groupId)) return
    const timer = setTimeout(() => {
      this.#markerTimers.delete(groupId)
      groups
        .everyoneMarkers(this.#db, groupId)
        .then((markers) => {
          const sent = this.#sentMarkers.get(groupId)
          if (sent && sent.deliveredUpTo === markers.deliveredUpTo && sent.readUpTo === markers.readUpTo)
            return
          this.#sentMarkers.set(groupId, markers)
          this.#realtime.toGroup(groupId, [], 'group_receipts', { groupId, ...markers })
        })
        .catch(() => {
          // Best effort: the next receipt tries again.
        })
    }, this.#receiptIntervalMs)
    timer.unref()
    this.#markerTimers.set(groupId, timer)
  }

  #forgetOldTyping(now: number): void {
    for (const [key, since] of this.#typingSince) {
      if (now - since >= this.#typingIntervalMs) this.#typingSince.delete(key)
    }
  }
}

type Receipts = Omit<MessageReceiptsResponse, 'times'>

const readers = (receipts: Receipts): number[] => [...receipts.read, ...receipts.delivered]

/** The lists with when each person got there, for those whose time is known (in the lists' order). */
function withTimes(receipts: Receipts, reached: ReachedAt): MessageReceiptsResponse {
  // Earliest first (then by user id): the lists' own order is whatever the database returned.
  const times = (ids: readonly number[], at: Map<number, number>) =>
    ids
      .flatMap((userId) => {
        const time = at.get(userId)
        return time === undefined ? [] : [{ userId, at: time }]
      })
      .sort((a, b) => a.at - b.at || a.userId - b.userId)
  return {
    ...receipts,
    times: {
      delivered: times(readers(receipts), reached.delivered),
      read: times(receipts.read, reached.read),
    },
  }
}

/** The caller's membership, or group_not_found: a group you are not in does not exist for you. */
export async function requireMember(
  db: Kysely<Database>,
  groupId: number,
  userId: number,
): Promise<GroupMemberRow> {
  const member = await groups.findMember(db, groupId, userId)
  if (!member) throw groupNotFound(groupId)
  return member
}

async function requireAdmin(db: Kysely<Database>, groupId: number, userId: number): Promise<GroupMemberRow> {
  const member = await requireMember(db, groupId, userId)
  requireAdminRole(member)
  return member
}

function requireAdminRole(member: GroupMemberRow): void {
  if (member.role === 'member') throw notAdmin("Only the group's owner and admins may do this")
}

/** Whether `userId` may see a group message: a member who joined before it was sent. */
export async function groupMessageMember(
  db: Kysely<Database>,
  row: MessageRow,
  userId: number,
): Promise<GroupMemberRow | undefined> {
  if (row.group_id === null) return undefined
  const member = await groups.findMember(db, row.group_id, userId)
  return member && Number(row.group_seq) >= member.joined_seq ? member : undefined
}

interface GroupReceipt {
  userId: number
  groupId: number
  kind: 'delivered' | 'read'
  upTo: number
}

function notInGroup(input: GroupReceipt): AppError {
  return new AppError('message_not_found', `Message ${input.upTo} is not in that group`)
}

/**
 * The group receipts of a batch in two statements (checks, then the markers with their marks; three
 * on SQLite) instead of four each: in a big busy group each member online sends one about every
 * second (the desktop holds them that long), so a batch holds hundreds. Does what `receipt` does
 * for each; a second receipt of the same member in the same group goes back to `receipt`'s own
 * operation, which runs after these and so sees the first one's marker.
 */
class GroupReceipts implements BulkWrite<GroupReceipt, undefined> {
  readonly #moved: (groupId: number) => void

  constructor(moved: (groupId: number) => void) {
    this.#moved = moved
  }

  async runAll(
    { trx, now }: BulkContext,
    items: BulkItem<GroupReceipt>[],
  ): Promise<BulkOutcome<undefined>[]> {
    const outcomes: BulkOutcome<undefined>[] = items.map(() => ({ ok: 'alone' }))
    const key = (userId: number, groupId: number) => `${userId}:${groupId}`
    const firsts = firstOfEach(items, (input) => key(input.userId, input.groupId))
    const checks = await groups.groupReceiptChecks(
      trx,
      firsts.map((k) => items[k]!.input),
    )
    const moving: number[] = []
    for (const [c, k] of firsts.entries()) {
      const { input } = items[k]!
      if (!checks[c]!.member) outcomes[k] = { ok: false, error: groupNotFound(input.groupId) }
      else if (!checks[c]!.inGroup) outcomes[k] = { ok: false, error: notInGroup(input) }
      else moving.push(k)
    }
    const moved = await groups.moveMarkersOfMany(
      trx,
      moving.map((k) => {
        const { userId, groupId, upTo, kind } = items[k]!.input
        return { userId, groupId, upTo, read: kind === 'read' }
      }),
      now,
    )
    for (const k of moving) {
      const { input, append, afterCommit } = items[k]!
      outcomes[k] = { ok: true, value: undefined }
      if (!moved.has(key(input.userId, input.groupId))) continue
      const { userId, groupId, upTo } = input
      append(userId, input.kind, { userId, groupId, upTo, at: now })
      afterCommit(() => this.#moved(groupId))
    }
    return outcomes
  }
}

function groupNotFound(groupId: number): AppError {
  return new AppError('group_not_found', `No group ${groupId} that you are in`)
}

function notAdmin(message: string): AppError {
  return new AppError('not_group_admin', message)
}

function groupFull(max: number): AppError {
  return new AppError('group_full', `A group has at most ${max} members`)
}

function inviteNotFound(): AppError {
  return new AppError('invite_not_found', 'No such invite code, or it was revoked, has expired or is used up')
}

function messageNotFound(id: number): AppError {
  return new AppError('message_not_found', `No message ${id}`)
}

function notSender(): AppError {
  return new AppError('not_message_sender', 'Only the sender sees who received and read a message')
}
