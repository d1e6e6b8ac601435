import type { ContactStatus } from '@parley/shared'
import type { Kysely } from 'kysely'
import { fixedQuery, isPostgres } from '../db/fixed-query'
import type { Database } from '../db/schema'
import { conversationKey } from './messages'

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

/** Markers after a move, and where the moved one (of the receipt's kind) now stands. */
export interface MarkerMove {
  markers: Markers
  upTo: number
}

/**
 * Where `kind` at `upTo` moves `current` (read implies delivered); null when it does not move
 * (markers never go back).
 */
export function markersAfter(current: Markers, kind: ReceiptKind, upTo: number): MarkerMove | null {
  const deliveredUpTo = Math.max(current.deliveredUpTo, upTo)
  const readUpTo = kind === 'read' ? Math.max(current.readUpTo, upTo) : current.readUpTo
  const moved = kind === 'read' ? readUpTo !== current.readUpTo : deliveredUpTo !== current.deliveredUpTo
  if (!moved) return null
  return { markers: { deliveredUpTo, readUpTo }, upTo: kind === 'read' ? readUpTo : deliveredUpTo }
}

/** What a 1:1 receipt checks before it moves a marker, for many receipts at once. */
export interface ReceiptCheck {
  /** Both have accepted each other. */
  mutual: boolean
  /** Message `upTo` is in their conversation, and the receipt's owner may see it. */
  inConversation: boolean
  markers: Markers
}

interface ReceiptCheckRow {
  ord: number
  mine: ContactStatus | null
  theirs: ContactStatus | null
  message_id: number | null
  delivered_up_to: number | null
  read_up_to: number | null
}

const selectReceiptChecks = fixedQuery<ReceiptCheckRow, [number[], number[], number[], number[], number[]]>(
  `select w.ord, mine.status as mine, theirs.status as theirs, m.id as message_id,
          r.delivered_up_to, r.read_up_to
   from unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
     with ordinality as w(owner_id, peer_id, up_to, user_low, user_high, ord)
   left join contacts mine on mine.owner_id = w.owner_id and mine.peer_id = w.peer_id
   left join contacts theirs on theirs.owner_id = w.peer_id and theirs.peer_id = w.owner_id
   left join messages m on m.id = w.up_to and m.user_low = w.user_low and m.user_high = w.user_high
     and (m.withheld = 0 or m.sender_id = w.owner_id)
   left join receipts r on r.owner_id = w.owner_id and r.peer_id = w.peer_id`,
)

/** SQLite: the same, the receipts given as one JSON array of [owner, peer, upTo, low, high]. */
const selectReceiptChecksSqlite = fixedQuery<ReceiptCheckRow, [string]>(
  `select w.key + 1 as ord, mine.status as mine, theirs.status as theirs, m.id as message_id,
          r.delivered_up_to, r.read_up_to
   from json_each(?) w
   left join contacts mine on mine.owner_id = w.value ->> 0 and mine.peer_id = w.value ->> 1
   left join contacts theirs on theirs.owner_id = w.value ->> 1 and theirs.peer_id = w.value ->> 0
   left join messages m on m.id = w.value ->> 2 and m.user_low = w.value ->> 3 and m.user_high = w.value ->> 4
     and (m.withheld = 0 or m.sender_id = w.value ->> 0)
   left join receipts r on r.owner_id = w.value ->> 0 and r.peer_id = w.value ->> 1`,
)

/**
 * areMutualContacts, isInConversation and findMarkers for many 1:1 receipts in one statement, in
 * the order given.
 */
export async function receiptChecks(
  db: Db,
  receipts: readonly { ownerId: number; peerId: number; upTo: number }[],
): Promise<ReceiptCheck[]> {
  if (receipts.length === 0) return []
  const keys = receipts.map((r) => conversationKey(r.ownerId, r.peerId))
  const rows = isPostgres(db)
    ? await selectReceiptChecks(
        db,
        receipts.map((r) => r.ownerId),
        receipts.map((r) => r.peerId),
        receipts.map((r) => r.upTo),
        keys.map((k) => k.user_low),
        keys.map((k) => k.user_high),
      )
    : await selectReceiptChecksSqlite(
        db,
        JSON.stringify(
          receipts.map((r, i) => [r.ownerId, r.peerId, r.upTo, keys[i]!.user_low, keys[i]!.user_high]),
        ),
      )
  const checks: ReceiptCheck[] = []
  for (const row of rows) {
    checks[Number(row.ord) - 1] = {
      mutual: row.mine === 'accepted' && row.theirs === 'accepted',
      inConversation: row.message_id !== null,
      markers: { deliveredUpTo: Number(row.delivered_up_to ?? 0), readUpTo: Number(row.read_up_to ?? 0) },
    }
  }
  return checks
}

/**
 * PostgreSQL: the markers and the marks in one statement (one round trip). A marker never goes
 * back, even when another relay moved it since it was read (`greatest`).
 */
const upsertMarkersAndMarks = fixedQuery<
  never,
  [number[], number[], string[], number[], number[], number[], number, number]
>(
  `with moved as (select * from unnest(?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[])
     as m(owner_id, peer_id, kind, delivered_up_to, read_up_to, up_to)),
   saved as (
     insert into receipts (owner_id, peer_id, delivered_up_to, read_up_to, updated_at)
     select owner_id, peer_id, delivered_up_to, read_up_to, ?::bigint from moved
     on conflict (owner_id, peer_id) do update
     set delivered_up_to = greatest(receipts.delivered_up_to, excluded.delivered_up_to),
       read_up_to = greatest(receipts.read_up_to, excluded.read_up_to), updated_at = excluded.updated_at)
   insert into receipt_marks (user_id, peer_id, kind, up_to, at)
   select owner_id, peer_id, kind, up_to, ?::bigint from moved`,
)

/** SQLite: the same, the rows given as one JSON array (`where true` keeps `on conflict` unambiguous). */
const upsertMarkersSqlite = fixedQuery<never, [string]>(
  `insert into receipts (owner_id, peer_id, delivered_up_to, read_up_to, updated_at)
   select value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 from json_each(?) where true
   on conflict (owner_id, peer_id) do update
   set delivered_up_to = max(receipts.delivered_up_to, excluded.delivered_up_to),
     read_up_to = max(receipts.read_up_to, excluded.read_up_to), updated_at = excluded.updated_at`,
)

/** SQLite: the marks, after the markers. */
const insertMarksSqlite = fixedQuery<never, [string]>(
  `insert into receipt_marks (user_id, peer_id, kind, up_to, at)
   select value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 from json_each(?)`,
)

/**
 * saveMarkers and recordMark for many 1:1 conversations at once: one statement on PostgreSQL, two
 * on SQLite. Each (owner, peer) may appear once (PostgreSQL refuses to update a row twice in one
 * statement).
 */
export async function saveMoves(
  db: Db,
  moves: readonly { ownerId: number; peerId: number; kind: ReceiptKind; markers: Markers; upTo: number }[],
  now: number,
): Promise<void> {
  if (moves.length === 0) return
  if (isPostgres(db)) {
    await upsertMarkersAndMarks(
      db,
      moves.map((m) => m.ownerId),
      moves.map((m) => m.peerId),
      moves.map((m) => m.kind),
      moves.map((m) => m.markers.deliveredUpTo),
      moves.map((m) => m.markers.readUpTo),
      moves.map((m) => m.upTo),
      now,
      now,
    )
    return
  }
  await upsertMarkersSqlite(
    db,
    JSON.stringify(moves.map((m) => [m.ownerId, m.peerId, m.markers.deliveredUpTo, m.markers.readUpTo, now])),
  )
  await insertMarksSqlite(db, JSON.stringify(moves.map((m) => [m.ownerId, m.peerId, m.kind, m.upTo, now])))
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
