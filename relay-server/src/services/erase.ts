import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { ownersOfContact } from '../repositories/contacts'
import { filesOwnedBy } from '../repositories/files'
import { revokeInvitesBy } from '../repositories/group-invites'
import { uploadedImageIds } from '../repositories/images'
import * as messages from '../repositories/messages'
import { forgetMarks } from '../repositories/receipts'
import { findUserById, toPublicUser } from '../repositories/users'
import type { Committer, WriteContext } from './committer'
import type { FileService } from './files'
import type { GroupService } from './groups'
import type { ImageService } from './images'

/** Rows one committer operation handles: small enough that other writes interleave. */
export const ERASE_CHUNK = 100
/** Groups one committer operation leaves. */
export const ERASE_GROUP_CHUNK = 20

/** What an erased account shows where its name used to be. */
export const ERASED_FIRST_NAME = 'Deleted'
export const ERASED_LAST_NAME = 'account'

export interface EraseDeps {
  db: Kysely<Database>
  committer: Committer
  images: ImageService
  files: FileService
  /** Group changes go through it, so that they are the same entries a leave or a delete writes. */
  groups: GroupService
  /** Sessions the erasure ended, for the relay to cut their sockets now (the admin command cannot). */
  onSessionsEnded?: (sessionIds: number[]) => void
}

export interface EraseSummary {
  sessionsEnded: number
  contactsRemoved: number
  messagesDeleted: number
  reactionsRemoved: number
  groupsLeft: number
  invitesRevoked: number
  picturesCollected: number
  filesCollected: number
}

/**
 * Erases an account, the one way both `DELETE /users/me` and `parley-relay admin user erase` do it:
 * the account is marked first (sign-in refused, profile wiped, sessions ended), then every sent
 * message becomes a tombstone for everyone (each peer's feed gets `message_deleted`, as for a
 * normal delete), the user's reactions go (peers get `reaction`), contacts are removed on both sides
 * (peers get `contact_removed`), read markers, hidden-message marks and the user's own feed go, and
 * pictures and files nobody else uses are deleted with their bytes (a file someone forwarded stays
 * while their message carries it). The row stays (messages received from others still point at
 * it); its username is released later (`releaseErasedUsernames`).
 *
 * Every step goes through the committer in chunks of ERASE_CHUNK, so a large account never holds
 * the event loop or the write queue for long, and every step is idempotent: running it again (a
 * second request, or `resumeErasures` after a crash) finishes what is left and changes nothing else.
 *
 * Groups go the way they go for members: the user's group messages become tombstones and their
 * reactions on group messages go, each an entry of its group's log (`message_deleted`, `reaction`)
 * written by the group service as a delete or an unreact writes it; then the user leaves every group
 * as a leave does (`member_removed`, the longest-serving admin, else member, taking over a group
 * they owned, their sockets out of the room, their group markers gone with the membership), and the
 * group invites they made are revoked.
 */
export async function eraseAccount(deps: EraseDeps, userId: number): Promise<EraseSummary> {
  const { committer } = deps
  const summary: EraseSummary = {
    sessionsEnded: 0,
    contactsRemoved: 0,
    messagesDeleted: 0,
    reactionsRemoved: 0,
    groupsLeft: 0,
    invitesRevoked: 0,
    picturesCollected: 0,
    filesCollected: 0,
  }
  // The pictures to collect at the end; taken before the marking clears the avatar.
  const before = await findUserById(deps.db, userId)
  if (!before) return summary
  const pictures = new Set(await uploadedImageIds(deps.db, userId))
  if (before.avatar_image_id) pictures.add(before.avatar_image_id)

  const { value: ended } = await committer.run((ctx) => markErased(ctx, userId))
  summary.sessionsEnded = ended.length
  if (ended.length > 0) deps.onSessionsEnded?.(ended)

  summary.contactsRemoved = await inChunks(committer, (ctx) => removeContacts(ctx, userId))
  summary.reactionsRemoved = await inChunks(committer, (ctx) => removeReactions(ctx, deps.groups, userId))
  summary.messagesDeleted = await inChunks(committer, (ctx) => tombstoneSent(ctx, deps.groups, userId))
  // Each leave writes a few log entries and locks its group's row: fewer groups a transaction.
  summary.groupsLeft = await inChunks(
    committer,
    (ctx) => deps.groups.leaveGroupsOf(ctx, userId, ERASE_GROUP_CHUNK),
    ERASE_GROUP_CHUNK,
  )
  summary.invitesRevoked = await inChunks(committer, ({ trx, now }) =>
    revokeInvitesBy(trx, userId, now, ERASE_CHUNK),
  )
  await inChunks(committer, (ctx) => forgetOwnRows(ctx, userId))
  summary.picturesCollected = await deps.images.collect([...pictures])
  summary.filesCollected = await deps.files.collect((await filesOwnedBy(deps.db, userId)).map((f) => f.id))
  await committer.run(async ({ trx, now }) => {
    await trx
      .updateTable('users')
      .set({ erase_finished_at: now })
      .where('id', '=', userId)
      .where('erase_finished_at', 'is', null)
      .execute()
  })
  return summary
}

/** Runs `step` until it reports that nothing was left; the sum of what each run handled. */
async function inChunks(
  committer: Committer,
  step: (ctx: WriteContext) => Promise<number>,
  chunk = ERASE_CHUNK,
): Promise<number> {
  let total = 0
  for (;;) {
    const { value } = await committer.run(step)
    total += value
    if (value < chunk) return total
  }
}

/** Sign-in refused, profile wiped, sessions ended; the ids of the sessions ended. */
async function markErased(ctx: WriteContext, userId: number): Promise<number[]> {
  const { trx, now } = ctx
  const row = await findUserById(trx, userId)
  if (!row) return []
  const updated = await trx
    .updateTable('users')
    .set({
      erased_at: row.erased_at ?? now,
      deactivated_at: row.deactivated_at ?? now,
      first_name: ERASED_FIRST_NAME,
      last_name: ERASED_LAST_NAME,
      email: '',
      // Not an argon2 hash: no password verifies against it.
      password_hash: '!erased',
      avatar_image_id: null,
      updated_at: now,
    })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow()
  // Those who list the user see the wiped profile before the entry goes.
  if (row.erased_at === null) {
    const visible = toPublicUser(updated)
    for (const ownerId of await ownersOfContact(trx, userId)) ctx.append(ownerId, 'user_updated', visible)
  }
  const sessions = await trx.deleteFrom('sessions').where('user_id', '=', userId).returning('id').execute()
  await trx.deleteFrom('sign_in_addresses').where('user_id', '=', userId).execute()
  return sessions.map((s) => s.id)
}

/** Up to ERASE_CHUNK contact entries of the user, both sides; each peer hears `contact_removed`. */
async function removeContacts(ctx: WriteContext, userId: number): Promise<number> {
  const { trx } = ctx
  const rows = await trx
    .selectFrom('contacts')
    .select(['owner_id', 'peer_id'])
    .where((eb) => eb.or([eb('owner_id', '=', userId), eb('peer_id', '=', userId)]))
    .limit(ERASE_CHUNK)
    .execute()
  const peers = [...new Set(rows.map((r) => (r.owner_id === userId ? r.peer_id : r.owner_id)))]
  for (const peerId of peers) {
    await trx.deleteFrom('contacts').where('owner_id', '=', userId).where('peer_id', '=', peerId).execute()
    const theirs = await trx
      .deleteFrom('contacts')
      .where('owner_id', '=', peerId)
      .where('peer_id', '=', userId)
      .executeTakeFirst()
    if (Number(theirs.numDeletedRows) > 0) ctx.append(peerId, 'contact_removed', { userId })
  }
  return rows.length
}

/**
 * The user's reactions on up to ERASE_CHUNK messages; the message's other side hears `reaction`,
 * or, in a group, the group's log gets a `reaction` entry.
 */
async function removeReactions(ctx: WriteContext, groups: GroupService, userId: number): Promise<number> {
  const { trx } = ctx
  const rows = await trx
    .selectFrom('reactions')
    .innerJoin('messages', 'messages.id', 'reactions.message_id')
    .select('reactions.message_id')
    .distinct()
    .where('reactions.user_id', '=', userId)
    .limit(ERASE_CHUNK)
    .execute()
  const ids = rows.map((r) => r.message_id)
  if (ids.length === 0) return 0
  await trx.deleteFrom('reactions').where('user_id', '=', userId).where('message_id', 'in', ids).execute()
  const changed = await messages.loadMessages(trx, ids)
  const rowsById = await trx.selectFrom('messages').selectAll().where('id', 'in', ids).execute()
  for (const row of rowsById) {
    const id = row.id
    const message = changed.get(id)
    if (!message) continue
    if (row.group_id !== null) {
      await groups.announceMessage(ctx, row, 'reaction', message)
      continue
    }
    const parties = [row.sender_id, ...(row.withheld === 0 ? [row.recipient_id] : [])]
    for (const party of parties) {
      if (party !== null && party !== userId) ctx.append(party, 'reaction', message, id)
    }
  }
  return ids.length
}

/**
 * Up to ERASE_CHUNK of the user's messages that are not tombstones yet; recipients hear
 * `message_deleted`, or, in a group, the group's log gets a `message_deleted` entry.
 */
async function tombstoneSent(ctx: WriteContext, groups: GroupService, userId: number): Promise<number> {
  const { trx, now } = ctx
  const rows = await trx
    .selectFrom('messages')
    .selectAll()
    .where('sender_id', '=', userId)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .limit(ERASE_CHUNK)
    .execute()
  const ids = rows.map((r) => r.id)
  await messages.tombstoneMessages(trx, ids, now)
  const tombstones = await messages.loadMessages(trx, ids)
  for (const row of rows) {
    if (row.group_id !== null)
      await groups.announceMessage(ctx, row, 'message_deleted', tombstones.get(row.id)!)
    // The message event is rebuilt from the row at read time, so it carries the tombstone.
    else if (row.withheld === 0 && row.recipient_id !== null && row.recipient_id !== userId) {
      ctx.append(row.recipient_id, 'message_deleted', tombstones.get(row.id)!, row.id)
    }
  }
  return rows.length
}

/** The user's read markers and feed, which nobody reads any more. */
async function forgetOwnRows(ctx: WriteContext, userId: number): Promise<number> {
  const { trx } = ctx
  await trx.deleteFrom('receipts').where('owner_id', '=', userId).execute()
  await forgetMarks(trx, userId)
  await trx.deleteFrom('image_uploads').where('user_id', '=', userId).execute()
  await trx.deleteFrom('hidden_messages').where('user_id', '=', userId).execute()
  const feed = await trx
    .selectFrom('feed_events')
    .select('seq')
    .where('user_id', '=', userId)
    .orderBy('seq')
    .limit(ERASE_CHUNK)
    .execute()
  const last = feed[feed.length - 1]
  if (last) {
    await trx.deleteFrom('feed_events').where('user_id', '=', userId).where('seq', '<=', last.seq).execute()
  }
  return feed.length
}

/** An unmatchable key: no username (letters, digits, `_.-`) lowercases to one starting with `~`. */
export const releasedUsernameKey = (userId: number) => `~erased-${userId}`

/**
 * Releases the usernames of accounts erased more than `graceMs` ago, so others may register them.
 * The row keeps a placeholder name (`erased-<id>`) and a key no sign-in or search can match.
 */
export async function releaseErasedUsernames(
  db: Kysely<Database>,
  now: number,
  graceMs: number,
): Promise<number> {
  const due = await db
    .selectFrom('users')
    .select('id')
    .where('erased_at', '<=', now - graceMs)
    .where('erase_finished_at', 'is not', null)
    .where('username_released_at', 'is', null)
    .limit(1000)
    .execute()
  for (const { id } of due) {
    await db
      .updateTable('users')
      .set({ username: `erased-${id}`, username_key: releasedUsernameKey(id), username_released_at: now })
      .where('id', '=', id)
      .execute()
  }
  return due.length
}

/** Accounts whose erasure began but did not finish (the relay stopped half-way). */
export async function unfinishedErasures(db: Kysely<Database>): Promise<number[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('erased_at', 'is not', null)
    .where('erase_finished_at', 'is', null)
    .execute()
  return rows.map((r) => r.id)
}
