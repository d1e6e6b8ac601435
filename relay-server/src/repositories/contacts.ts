import type { Contact, ContactStatus } from '@parley/shared'
import type { Kysely } from 'kysely'
import { fixedQuery } from '../db/fixed-query'
import type { ContactRow, Database, UserRow } from '../db/schema'
import { toPublicUser } from './users'

type Db = Kysely<Database>

export function toContact(row: ContactRow, peer: UserRow): Contact {
  return {
    user: toPublicUser(peer),
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    acceptedAt: row.accepted_at,
  }
}

export async function findContact(db: Db, ownerId: number, peerId: number): Promise<ContactRow | undefined> {
  return db
    .selectFrom('contacts')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('peer_id', '=', peerId)
    .executeTakeFirst()
}

export async function listContacts(db: Db, ownerId: number): Promise<(ContactRow & { peer: UserRow })[]> {
  const rows = await db
    .selectFrom('contacts')
    .innerJoin('users', 'users.id', 'contacts.peer_id')
    .selectAll('users')
    .select([
      'contacts.owner_id',
      'contacts.peer_id',
      'contacts.status',
      'contacts.created_at as contact_created_at',
      'contacts.updated_at as contact_updated_at',
      'contacts.accepted_at',
    ])
    .where('contacts.owner_id', '=', ownerId)
    .orderBy('users.username_key')
    .execute()
  return rows.map((r) => {
    const { owner_id, peer_id, status, contact_created_at, contact_updated_at, accepted_at, ...peer } = r
    return {
      owner_id,
      peer_id,
      status,
      created_at: contact_created_at,
      updated_at: contact_updated_at,
      accepted_at,
      peer,
    }
  })
}

/** Sets an entry's status; `acceptedAt` only where given (an entry that is not accepted keeps its own). */
export async function upsertContact(
  db: Db,
  ownerId: number,
  peerId: number,
  status: ContactStatus,
  now: number,
  acceptedAt?: number,
): Promise<ContactRow> {
  return db
    .insertInto('contacts')
    .values({
      owner_id: ownerId,
      peer_id: peerId,
      status,
      created_at: now,
      updated_at: now,
      accepted_at: acceptedAt ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['owner_id', 'peer_id']).doUpdateSet({
        status,
        updated_at: now,
        ...(acceptedAt !== undefined && { accepted_at: acceptedAt }),
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function deleteContact(db: Db, ownerId: number, peerId: number): Promise<boolean> {
  const result = await db
    .deleteFrom('contacts')
    .where('owner_id', '=', ownerId)
    .where('peer_id', '=', peerId)
    .executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

const acceptedRows = fixedQuery<{ owner_id: number }, [number, number, number, number]>(
  `select owner_id from contacts
   where ((owner_id = ? and peer_id = ?) or (owner_id = ? and peer_id = ?)) and status = 'accepted'`,
)

/** Whether both sides have accepted each other: the condition for messages, typing, presence. */
export async function areMutualContacts(db: Db, a: number, b: number): Promise<boolean> {
  return (await acceptedRows(db, a, b, b, a)).length === 2
}

const pairRows = fixedQuery<{ owner_id: number; status: ContactStatus }, [number, number, number, number]>(
  `select owner_id, status from contacts where (owner_id = ? and peer_id = ?) or (owner_id = ? and peer_id = ?)`,
)

/**
 * What becomes of a message from `senderId` to `recipientId`: delivered between mutual contacts;
 * withheld when the sender still counts the recipient as a contact but the recipient blocked them
 * (so the sender cannot tell a block from silence); refused otherwise.
 */
export async function deliveryOf(
  db: Db,
  senderId: number,
  recipientId: number,
): Promise<'deliver' | 'withhold' | 'refuse'> {
  const rows = await pairRows(db, senderId, recipientId, recipientId, senderId)
  const status = (owner: number) => rows.find((r) => Number(r.owner_id) === owner)?.status
  return deliveryFrom(status(senderId), status(recipientId))
}

/** deliveryOf, from the sender's entry for the recipient and the recipient's for the sender. */
export function deliveryFrom(
  senders: ContactStatus | null | undefined,
  recipients: ContactStatus | null | undefined,
): 'deliver' | 'withhold' | 'refuse' {
  if (senders !== 'accepted') return 'refuse'
  if (recipients === 'accepted') return 'deliver'
  return recipients === 'blocked' ? 'withhold' : 'refuse'
}

/** The users with whom `userId` has mutually accepted contact. */
export async function mutualContactIds(db: Db, userId: number): Promise<number[]> {
  return (await mutualContactIdsOf(db, [userId])).get(userId) ?? []
}

/** mutualContactIds for many users in one query: each user's mutual contacts (absent: none). */
export async function mutualContactIdsOf(db: Db, userIds: readonly number[]): Promise<Map<number, number[]>> {
  const result = new Map<number, number[]>()
  if (userIds.length === 0) return result
  const rows = await db
    .selectFrom('contacts as mine')
    .innerJoin('contacts as theirs', (join) =>
      join.onRef('theirs.owner_id', '=', 'mine.peer_id').onRef('theirs.peer_id', '=', 'mine.owner_id'),
    )
    .select(['mine.owner_id', 'mine.peer_id'])
    .where('mine.owner_id', 'in', userIds)
    .where('mine.status', '=', 'accepted')
    .where('theirs.status', '=', 'accepted')
    .execute()
  for (const row of rows) {
    const list = result.get(row.owner_id)
    if (list) list.push(row.peer_id)
    else result.set(row.owner_id, [row.peer_id])
  }
  return result
}

/** Everyone who has `userId` in their contact list, except those `userId` has blocked. */
export async function ownersOfContact(db: Db, userId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('contacts as theirs')
    .leftJoin('contacts as mine', (join) =>
      join.onRef('mine.owner_id', '=', 'theirs.peer_id').onRef('mine.peer_id', '=', 'theirs.owner_id'),
    )
    .select('theirs.owner_id')
    .where('theirs.peer_id', '=', userId)
    .where((eb) => eb.or([eb('mine.status', 'is', null), eb('mine.status', '!=', 'blocked')]))
    .execute()
  return rows.map((r) => r.owner_id)
}

/** Whether either user has a contact entry (any status) for the other. */
export async function hasRelationship(db: Db, a: number, b: number): Promise<boolean> {
  const row = await db
    .selectFrom('contacts')
    .select('owner_id')
    .where((eb) =>
      eb.or([
        eb.and([eb('owner_id', '=', a), eb('peer_id', '=', b)]),
        eb.and([eb('owner_id', '=', b), eb('peer_id', '=', a)]),
      ]),
    )
    .executeTakeFirst()
  return row !== undefined
}
