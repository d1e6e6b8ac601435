import type { Group, GroupEvent, GroupMember, GroupPreview } from '@parley/shared'
import type { Kysely } from 'kysely'
import { fixedQuery, isPostgres } from '../db/fixed-query'
import type { Database, GroupMemberRow, GroupRoleName, GroupRow } from '../db/schema'
import { hiddenAmong, loadMessages } from './messages'
import { recordMark } from './receipts'

type Db = Kysely<Database>

export function toMember(row: Pick<GroupMemberRow, 'user_id' | 'role' | 'joined_at'>): GroupMember {
  return { userId: row.user_id, role: row.role, joinedAt: row.joined_at }
}

export function toGroup(row: GroupRow, role: GroupRoleName, members?: GroupMember[]): Group {
  return {
    id: row.id,
    title: row.title,
    avatar: row.avatar_image_id,
    createdAt: row.created_at,
    createdBy: row.created_by,
    memberCount: row.member_count,
    ...(members && { members }),
    role,
    headSeq: Number(row.head_seq),
  }
}

export function toPreview(row: GroupRow): GroupPreview {
  return { id: row.id, title: row.title, avatar: row.avatar_image_id, memberCount: row.member_count }
}

export async function insertGroup(
  db: Db,
  group: { title: string; created_at: number; created_by: number },
): Promise<GroupRow> {
  return db.insertInto('groups').values(group).returningAll().executeTakeFirstOrThrow()
}

export async function findGroup(db: Db, id: number): Promise<GroupRow | undefined> {
  return db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst()
}

const selectMember = fixedQuery<GroupMemberRow, [number, number]>(
  'select * from group_members where group_id = ? and user_id = ?',
)

export async function findMember(
  db: Db,
  groupId: number,
  userId: number,
): Promise<GroupMemberRow | undefined> {
  return (await selectMember(db, groupId, userId))[0]
}

/** Every member, longest-serving first. */
export async function membersOf(db: Db, groupId: number): Promise<GroupMember[]> {
  const rows = await db
    .selectFrom('group_members')
    .select(['user_id', 'role', 'joined_at'])
    .where('group_id', '=', groupId)
    .orderBy('joined_seq')
    .orderBy('user_id')
    .execute()
  return rows.map(toMember)
}

/** Of these users, those already in the group. */
export async function existingMembers(
  db: Db,
  groupId: number,
  userIds: readonly number[],
): Promise<Set<number>> {
  if (userIds.length === 0) return new Set()
  const rows = await db
    .selectFrom('group_members')
    .select('user_id')
    .where('group_id', '=', groupId)
    .where('user_id', 'in', [...userIds])
    .execute()
  return new Set(rows.map((r) => r.user_id))
}

/** The groups `userId` is in, with their role and the log entry that added them, oldest membership first. */
export async function groupsOf(
  db: Db,
  userId: number,
): Promise<(GroupRow & { role: GroupRoleName; joined_seq: number })[]> {
  return db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .selectAll('groups')
    .select(['group_members.role', 'group_members.joined_seq'])
    .where('group_members.user_id', '=', userId)
    .orderBy('group_members.joined_at')
    .orderBy('groups.id')
    .execute()
}

/** Up to `limit` of the memberships of `userId` (an erasure leaves them chunk by chunk). */
export async function membershipsOf(db: Db, userId: number, limit: number): Promise<GroupMemberRow[]> {
  return db
    .selectFrom('group_members')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('group_id')
    .limit(limit)
    .execute()
}

/** A fixed statement: every socket's handshake joins its user's group rooms. */
const selectGroupIdsOf = fixedQuery<{ group_id: number }, [number]>(
  'select group_id from group_members where user_id = ?',
)

export async function groupIdsOf(db: Db, userId: number): Promise<number[]> {
  const rows = await selectGroupIdsOf(db, userId)
  return rows.map((r) => r.group_id)
}

export async function insertMembers(
  db: Db,
  rows: {
    group_id: number
    user_id: number
    role: GroupRoleName
    joined_at: number
    joined_seq: number
    marker: number
  }[],
): Promise<void> {
  if (rows.length === 0) return
  await db
    .insertInto('group_members')
    .values(rows.map(({ marker, ...row }) => ({ ...row, delivered_up_to: marker, read_up_to: marker })))
    .execute()
}

export async function deleteMember(db: Db, groupId: number, userId: number): Promise<void> {
  await db.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', '=', userId).execute()
}

/** Takes every member out of the group (it is deleted); who they were. */
export async function deleteAllMembers(db: Db, groupId: number): Promise<number[]> {
  const rows = await db
    .deleteFrom('group_members')
    .where('group_id', '=', groupId)
    .returning('user_id')
    .execute()
  await db.updateTable('groups').set({ member_count: 0 }).where('id', '=', groupId).execute()
  return rows.map((r) => r.user_id)
}

export async function setRole(db: Db, groupId: number, userId: number, role: GroupRoleName): Promise<void> {
  await db
    .updateTable('group_members')
    .set({ role })
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .execute()
}

export async function addToMemberCount(db: Db, groupId: number, delta: number): Promise<void> {
  await db
    .updateTable('groups')
    .set((eb) => ({ member_count: eb('member_count', '+', delta) }))
    .where('id', '=', groupId)
    .execute()
}

export async function updateGroup(
  db: Db,
  groupId: number,
  values: { title?: string; avatar_image_id?: string | null },
): Promise<void> {
  await db.updateTable('groups').set(values).where('id', '=', groupId).execute()
}

/** Members who joined after the log entry `seq`. */
export async function joinedAfter(db: Db, groupId: number, seq: number): Promise<number[]> {
  const rows = await db
    .selectFrom('group_members')
    .select('user_id')
    .where('group_id', '=', groupId)
    .where('joined_seq', '>', seq)
    .execute()
  return rows.map((r) => r.user_id)
}

/** Who takes over from a leaving owner: the longest-serving admin, else the longest-serving member. */
export async function successorOf(db: Db, groupId: number): Promise<number | undefined> {
  const rows = await db
    .selectFrom('group_members')
    .select(['user_id', 'role'])
    .where('group_id', '=', groupId)
    .where('role', '!=', 'owner')
    .orderBy('joined_seq')
    .orderBy('user_id')
    .execute()
  return (rows.find((r) => r.role === 'admin') ?? rows[0])?.user_id
}

const bumpHead = fixedQuery<{ head_seq: number }, [number]>(
  'update groups set head_seq = head_seq + 1 where id = ? returning head_seq',
)

/** The next seq of the group's log, given in this transaction (the group's row stays locked until commit). */
export async function nextGroupSeq(db: Db, groupId: number): Promise<number> {
  const [row] = await bumpHead(db, groupId)
  if (!row) throw new Error(`no group ${groupId} for a log entry`)
  return Number(row.head_seq)
}

/** Stores one entry of the group's log: a message entry points at the message, others keep JSON. */
export async function insertGroupEvent(
  db: Db,
  entry: {
    groupId: number
    seq: number
    type: string
    messageId: number | null
    payload: unknown
    now: number
  },
): Promise<void> {
  await db
    .insertInto('group_events')
    .values({
      group_id: entry.groupId,
      seq: entry.seq,
      type: entry.type,
      message_id: entry.messageId,
      payload: entry.messageId === null ? JSON.stringify(entry.payload) : null,
      created_at: entry.now,
    })
    .execute()
}

/**
 * The group's log after `after` as a member who joined at `joinedSeq` may read it: from their
 * joining on, and without entries about messages sent before they joined.
 */
export async function readGroupEvents(
  db: Db,
  groupId: number,
  reader: { userId: number; joinedSeq: number },
  after: number,
  limit: number,
): Promise<{ events: GroupEvent[]; cursor: number; hasMore: boolean; head: number }> {
  const { joinedSeq } = reader
  const rows = await db
    .selectFrom('group_events')
    .select(['seq', 'type', 'message_id', 'payload', 'created_at'])
    .where('group_id', '=', groupId)
    .where('seq', '>', Math.max(after, joinedSeq - 1))
    .orderBy('seq')
    .limit(limit + 1)
    .execute()
  const group = await findGroup(db, groupId)
  const hasMore = rows.length > limit
  const page = rows.slice(0, limit)
  const messageIds = page.flatMap((r) => (r.message_id === null ? [] : [r.message_id]))
  const messages = await loadMessages(db, messageIds)
  const seqs = await messageSeqs(db, messageIds)
  // What the reader hid for themselves is left out of their catch-ups, as in their feed.
  const hidden = await hiddenAmong(db, reader.userId, messageIds)
  const events: GroupEvent[] = []
  for (const row of page) {
    if (row.message_id !== null && (seqs.get(row.message_id) ?? 0) < joinedSeq) continue
    if (row.message_id !== null && hidden.has(row.message_id)) continue
    const data = row.message_id === null ? JSON.parse(row.payload ?? 'null') : messages.get(row.message_id)
    events.push({
      groupId,
      seq: Number(row.seq),
      type: row.type,
      createdAt: row.created_at,
      data,
    } as GroupEvent)
  }
  const cursor = page.length > 0 ? Number(page.at(-1)!.seq) : after
  return { events, cursor, hasMore, head: Number(group?.head_seq ?? 0) }
}

async function messageSeqs(db: Db, ids: readonly number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map()
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'group_seq'])
    .where('id', 'in', [...new Set(ids)])
    .execute()
  return new Map(rows.map((r) => [r.id, Number(r.group_seq ?? 0)]))
}

/** The newest message of the group (0 for none): where a new member's markers start. */
export async function lastMessageId(db: Db, groupId: number): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.max('id').as('last'))
    .where('group_id', '=', groupId)
    .executeTakeFirst()
  return Number(row?.last ?? 0)
}

/**
 * Moves a member's markers forward (never back); read implies delivered. One row, whatever the
 * group's size; a move is noted with its time `at` (receipt_marks).
 */
export async function moveMarkers(
  db: Db,
  groupId: number,
  userId: number,
  upTo: number,
  read: boolean,
  at: number,
): Promise<boolean> {
  const result = await db
    .updateTable('group_members')
    .set((eb) => ({
      delivered_up_to: eb
        .case()
        .when('delivered_up_to', '<', upTo)
        .then(upTo)
        .else(eb.ref('delivered_up_to'))
        .end(),
      ...(read && {
        read_up_to: eb.case().when('read_up_to', '<', upTo).then(upTo).else(eb.ref('read_up_to')).end(),
      }),
    }))
    .where('group_id', '=', groupId)
    .where('user_id', '=', userId)
    .where(read ? 'read_up_to' : 'delivered_up_to', '<', upTo)
    .executeTakeFirst()
  const moved = Number(result.numUpdatedRows) > 0
  if (moved) await recordMark(db, { userId, place: { groupId }, kind: read ? 'read' : 'delivered', upTo, at })
  return moved
}

/** What a group receipt checks before it moves a member's marker, for many receipts at once. */
export interface GroupReceiptCheck {
  member: boolean
  /** Message `upTo` is in the group, from after the member joined. */
  inGroup: boolean
}

interface GroupReceiptCheckRow {
  ord: number
  member_id: number | null
  message_id: number | null
}

const selectGroupReceiptChecks = fixedQuery<GroupReceiptCheckRow, [number[], number[], number[]]>(
  `select w.ord, gm.user_id as member_id, m.id as message_id
   from unnest(?::bigint[], ?::bigint[], ?::bigint[]) with ordinality as w(user_id, group_id, up_to, ord)
   left join group_members gm on gm.group_id = w.group_id and gm.user_id = w.user_id
   left join messages m on m.id = w.up_to and m.group_id = w.group_id and m.group_seq >= gm.joined_seq`,
)

/** SQLite: the same, the receipts given as one JSON array of [user, group, upTo]. */
const selectGroupReceiptChecksSqlite = fixedQuery<GroupReceiptCheckRow, [string]>(
  `select w.key + 1 as ord, gm.user_id as member_id, m.id as message_id
   from json_each(?) w
   left join group_members gm on gm.group_id = w.value ->> 1 and gm.user_id = w.value ->> 0
   left join messages m on m.id = w.value ->> 2 and m.group_id = w.value ->> 1 and m.group_seq >= gm.joined_seq`,
)

/** findMember and the message's place in the group, for many group receipts in one statement, in order. */
export async function groupReceiptChecks(
  db: Db,
  receipts: readonly { userId: number; groupId: number; upTo: number }[],
): Promise<GroupReceiptCheck[]> {
  if (receipts.length === 0) return []
  const rows = isPostgres(db)
    ? await selectGroupReceiptChecks(
        db,
        receipts.map((r) => r.userId),
        receipts.map((r) => r.groupId),
        receipts.map((r) => r.upTo),
      )
    : await selectGroupReceiptChecksSqlite(
        db,
        JSON.stringify(receipts.map((r) => [r.userId, r.groupId, r.upTo])),
      )
  const checks: GroupReceiptCheck[] = []
  for (const row of rows) {
    checks[Number(row.ord) - 1] = { member: row.member_id !== null, inGroup: row.message_id !== null }
  }
  return checks
}

/**
 * PostgreSQL: moveMarkers for many members at once, and the marks of those that moved, in one
 * statement. Each row moves only if its marker is behind (`where`, evaluated on the locked row, so
 * two relays moving one marker at once never move it back); returns the rows that moved.
 */
const moveManyMarkers = fixedQuery<
  { user_id: number; group_id: number },
  [number[], number[], number[], boolean[], number]
>(
  `with moved as (
     update group_members gm
     set delivered_up_to = greatest(gm.delivered_up_to, w.up_to),
       read_up_to = case when w.is_read then greatest(gm.read_up_to, w.up_to) else gm.read_up_to end
     from unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::boolean[]) as w(user_id, group_id, up_to, is_read)
     where gm.group_id = w.group_id and gm.user_id = w.user_id
       and (case when w.is_read then gm.read_up_to else gm.delivered_up_to end) < w.up_to
     returning gm.user_id, gm.group_id, w.up_to, w.is_read),
   marked as (
     insert into receipt_marks (user_id, group_id, kind, up_to, at)
     select user_id, group_id, case when is_read then 'read' else 'delivered' end, up_to, ?::bigint from moved)
   select user_id, group_id from moved`,
)

/** SQLite: the markers (one writer: the `where` is enough); the marks follow in their own statement. */
const moveManyMarkersSqlite = fixedQuery<{ user_id: number; group_id: number }, [string]>(
  `update group_members
   set delivered_up_to = max(delivered_up_to, w.value ->> 2),
     read_up_to = case when w.value ->> 3 then max(read_up_to, w.value ->> 2) else read_up_to end
   from json_each(?) w
   where group_members.group_id = w.value ->> 1 and group_members.user_id = w.value ->> 0
     and (case when w.value ->> 3 then read_up_to else delivered_up_to end) < w.value ->> 2
   returning group_members.user_id, group_members.group_id`,
)

const insertGroupMarksSqlite = fixedQuery<never, [string]>(
  `insert into receipt_marks (user_id, group_id, kind, up_to, at)
   select value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 from json_each(?)`,
)

/**
 * moveMarkers for many members (each (user, group) at most once): returns which moved, as
 * "user:group" keys; their moves are noted in receipt_marks. One statement on PostgreSQL, two on
 * SQLite.
 */
export async function moveMarkersOfMany(
  db: Db,
  moves: readonly { userId: number; groupId: number; upTo: number; read: boolean }[],
  at: number,
): Promise<Set<string>> {
  if (moves.length === 0) return new Set()
  const key = (userId: number, groupId: number) => `${userId}:${groupId}`
  if (isPostgres(db)) {
    const rows = await moveManyMarkers(
      db,
      moves.map((m) => m.userId),
      moves.map((m) => m.groupId),
      moves.map((m) => m.upTo),
      moves.map((m) => m.read),
      at,
    )
    return new Set(rows.map((r) => key(Number(r.user_id), Number(r.group_id))))
  }
  const rows = await moveManyMarkersSqlite(
    db,
    JSON.stringify(moves.map((m) => [m.userId, m.groupId, m.upTo, m.read ? 1 : 0])),
  )
  const moved = new Set(rows.map((r) => key(Number(r.user_id), Number(r.group_id))))
  const marks = moves.filter((m) => moved.has(key(m.userId, m.groupId)))
  if (marks.length > 0) {
    await insertGroupMarksSqlite(
      db,
      JSON.stringify(marks.map((m) => [m.userId, m.groupId, m.read ? 'read' : 'delivered', m.upTo, at])),
    )
  }
  return moved
}

/** How far everyone in the group has received and read. */
export async function everyoneMarkers(
  db: Db,
  groupId: number,
): Promise<{ deliveredUpTo: number; readUpTo: number }> {
  const row = await db
    .selectFrom('group_members')
    .select((eb) => [eb.fn.min('delivered_up_to').as('delivered'), eb.fn.min('read_up_to').as('read')])
    .where('group_id', '=', groupId)
    .executeTakeFirst()
  return { deliveredUpTo: Number(row?.delivered ?? 0), readUpTo: Number(row?.read ?? 0) }
}

/** Members other than `exceptUserId` whose markers reached `messageId`. */
export async function receiptsOf(
  db: Db,
  groupId: number,
  messageId: number,
  exceptUserId: number,
): Promise<{ read: number[]; delivered: number[] }> {
  const rows = await db
    .selectFrom('group_members')
    .select(['user_id', 'read_up_to'])
    .where('group_id', '=', groupId)
    .where('user_id', '!=', exceptUserId)
    .where('delivered_up_to', '>=', messageId)
    .orderBy('user_id')
    .execute()
  const read = rows.filter((r) => Number(r.read_up_to) >= messageId).map((r) => r.user_id)
  const delivered = rows.filter((r) => Number(r.read_up_to) < messageId).map((r) => r.user_id)
  return { read, delivered }
}

/** Whether two users are members of one group now (so each may see the other's public profile). */
export async function shareGroup(db: Db, a: number, b: number): Promise<boolean> {
  const row = await db
    .selectFrom('group_members as x')
    .innerJoin('group_members as y', 'y.group_id', 'x.group_id')
    .select('x.group_id')
    .where('x.user_id', '=', a)
    .where('y.user_id', '=', b)
    .executeTakeFirst()
  return row !== undefined
}
