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
