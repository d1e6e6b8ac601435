import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'

type Db = Kysely<Database>

/** How far `ownerId` has received and read the conversation with `peerId` (0 for not at all). */
export interface Markers {
  deliveredUpTo: number
  readUpTo: number
}

export async function findMarkers(db: Db, ownerId: number, peerId: number): Promise<Markers> {
  const row = await db
    .selectFrom('receipts')
    .select(['delivered_up_to', 'read_up_to'])
    .where('owner_id', '=', ownerId)
    .where('peer_id', '=', peerId)
    .executeTakeFirst()
  return { deliveredUpTo: row?.delivered_up_to ?? 0, readUpTo: row?.read_up_to ?? 0 }
}

export async function saveMarkers(
  db: Db,
  ownerId: number,
  peerId: number,
  markers: Markers,
  now: number,
): Promise<void> {
  const values = { delivered_up_to: markers.deliveredUpTo, read_up_to: markers.readUpTo, updated_at: now }
  await db
    .insertInto('receipts')
    .values({ owner_id: ownerId, peer_id: peerId, ...values })
    .onConflict((oc) => oc.columns(['owner_id', 'peer_id']).doUpdateSet(values))
    .execute()
}

/** Every marker of `userId`'s conversations: theirs, and their peers' on the same conversations. */
export async function markersInvolving(
  db: Db,
  userId: number,
): Promise<
  { ownerId: number; peerId: number; deliveredUpTo: number; readUpTo: number; updatedAt: number }[]
> {
  const rows = await db
    .selectFrom('receipts')
    .selectAll()
    .where((eb) => eb.or([eb('owner_id', '=', userId), eb('peer_id', '=', userId)]))
    .orderBy('owner_id')
    .orderBy('peer_id')
    .execute()
  return rows.map((r) => ({
    ownerId: r.owner_id,
    peerId: r.peer_id,
    deliveredUpTo: r.delivered_up_to,
    readUpTo: r.read_up_to,
    updatedAt: r.updated_at,
  }))
}

export type ReceiptKind = 'delivered' | 'read'

/** Where a marker lives: a 1:1 conversation (with `peerId`) or a group. */
export type MarkPlace = { peerId: number; groupId?: undefined } | { groupId: number; peerId?: undefined }

/** Notes when `userId`'s marker of `kind` moved to `upTo` (once per move, in the move's transaction). */
export async function recordMark(
  db: Db,
  mark: { userId: number; place: MarkPlace; kind: ReceiptKind; upTo: number; at: number },
): Promise<void> {
  await db
    .insertInto('receipt_marks')
    .values({
      user_id: mark.userId,
      peer_id: mark.place.peerId ?? null,
      group_id: mark.place.groupId ?? null,
      kind: mark.kind,
      up_to: mark.upTo,
      at: mark.at,
    })
    .execute()
}

/** Per user, when a marker of each kind first reached a message (reading counts as receiving). */
export interface ReachedAt {
  delivered: Map<number, number>
  read: Map<number, number>
}

/**
 * When each of `userIds` first received and read message `messageId` of `place`, as far as the
 * marks say (receipts from before the relay kept times have none). Markers only move forward, so
 * the first mark at or beyond the message is when it got there.
 */
export async function reachedAt(
  db: Db,
  place: MarkPlace,
  userIds: readonly number[],
  messageId: number,
): Promise<ReachedAt> {
  const reached: ReachedAt = { delivered: new Map(), read: new Map() }
  if (userIds.length === 0) return reached
  let query = db
    .selectFrom('receipt_marks')
    .select((eb) => ['user_id', 'kind', eb.fn.min('at').as('at')])
    .where('user_id', 'in', userIds)
    .where('up_to', '>=', messageId)
  query =
    place.groupId !== undefined
      ? query.where('group_id', '=', place.groupId)
      : query.where('peer_id', '=', place.peerId)
  const rows = await query.groupBy(['user_id', 'kind']).execute()
  for (const row of rows) {
    const at = Number(row.at)
    if (row.kind === 'read') reached.read.set(row.user_id, at)
    const delivered = reached.delivered.get(row.user_id)
    if (delivered === undefined || at < delivered) reached.delivered.set(row.user_id, at)
  }
  return reached
}

/** The marks of `userId`'s receipts, and of their peers' receipts in 1:1 conversations with them (an export). */
export async function marksInvolving(
  db: Db,
  userId: number,
): Promise<
  {
    userId: number
    peerId: number | null
    groupId: number | null
    kind: ReceiptKind
    upTo: number
    at: number
  }[]
> {
  const rows = await db
    .selectFrom('receipt_marks')
    .selectAll()
    .where((eb) => eb.or([eb('user_id', '=', userId), eb('peer_id', '=', userId)]))
    .orderBy('at')
    .orderBy('user_id')
    .execute()
  return rows.map((r) => ({
    userId: r.user_id,
    peerId: r.peer_id,
    groupId: r.group_id,
    kind: r.kind,
    upTo: r.up_to,
    at: r.at,
  }))
}

/** Forgets the marks of `userId` (erased), or of one member of a group (they left). */
export async function forgetMarks(db: Db, userId: number, groupId?: number): Promise<void> {
  let query = db.deleteFrom('receipt_marks').where('user_id', '=', userId)
  if (groupId !== undefined) query = query.where('group_id', '=', groupId)
  await query.execute()
}

/** Forgets every mark of a group (it was deleted). */
export async function forgetGroupMarks(db: Db, groupId: number): Promise<void> {
  await db.deleteFrom('receipt_marks').where('group_id', '=', groupId).execute()
}
