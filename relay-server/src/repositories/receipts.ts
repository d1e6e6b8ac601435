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
