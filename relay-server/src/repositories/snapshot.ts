import type { GroupMember, Message, SnapshotMarkers } from '@parley/shared'
import { type Kysely, type RawBuilder, sql } from 'kysely'
import type { Database, GroupRoleName, GroupRow } from '../db/schema'
import { toMember } from './groups'
import { type MessageWithMedia, toMessage } from './message-rows'
import { reactionsFor } from './reactions'

type Db = Kysely<Database>

/**
 * Reads for GET /sync/snapshot, each a few statements whatever the number of conversations: pages
 * are read for a chunk of conversations at a time, each page by its own index range (UNION ALL of
 * `order by id desc limit n` subqueries), so thousands of conversations cost a few dozen
 * statements, not one per conversation, and no statement scans a user's whole history.
 */

/** Conversations (or groups) whose pages one statement reads. */
const PAGES_PER_STATEMENT = 50
/** Ids per `in (…)` list. */
const IDS_PER_STATEMENT = 1000

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * Everyone `userId` has a 1:1 conversation with (a message either way, visible or not; an empty
 * page drops it later). A skip-scan by recursive query over the two conversation indexes: one
 * index probe per conversation, not one row per message.
 */
export async function conversationPeerIds(db: Db, userId: number): Promise<number[]> {
  const { rows } = await sql<{ peer: number }>`
    with recursive
      low(peer) as (
        select (select min(user_high) from messages where user_low = ${userId})
        union all
        select (select min(user_high) from messages where user_low = ${userId} and user_high > low.peer)
        from low where low.peer is not null
      ),
      high(peer) as (
        select (select min(user_low) from messages where user_high = ${userId})
        union all
        select (select min(user_low) from messages where user_high = ${userId} and user_low > high.peer)
        from high where high.peer is not null
      )
    select peer from low where peer is not null
    union
    select peer from high where peer is not null`.execute(db)
  return rows.map((r) => Number(r.peer))
}

/** Lets the event loop run between statements: better-sqlite3 runs each one synchronously. */
const breathe = () => new Promise((resolve) => setImmediate(resolve))

/** What each page subquery selects: the message with its media facts, tagged with its conversation. */
const PAGE_COLUMNS = sql`m.*, i.mime as image_mime, i.width as image_width, i.height as image_height,
  i.bytes as image_bytes, f.name as file_name, f.size as file_size, f.type as file_type`
const PAGE_FROM = sql`messages m left join images i on i.id = m.image_id left join files f on f.id = m.file_id`

/**
 * Runs one `union all` of per-conversation page subqueries (each tagged with its key `k`), and
 * gives the messages of each page, newest first, with their reactions.
 */
async function pages(
  db: Db,
  subqueries: RawBuilder<unknown>[],
  into: Map<number, { messages: Message[]; hasMore: boolean }>,
  limit: number,
): Promise<void> {
  if (subqueries.length === 0) return
  const { rows } = await sql<MessageWithMedia & { k: number }>`${sql.join(
    subqueries.map((q, i) => sql`select * from (${q}) as ${sql.ref(`p${i}`)}`),
    sql` union all `,
  )}`.execute(db)
  const byKey = new Map<number, (MessageWithMedia & { k: number })[]>()
  for (const row of rows) {
    const key = Number(row.k)
    const list = byKey.get(key) ?? []
    if (list.length === 0) byKey.set(key, list)
    list.push(row)
  }
  const shown = [...byKey.values()].flatMap((list) => list.slice(0, limit))
  const reactions = await reactionsFor(
    db,
    shown.filter((r) => r.deleted_at === null).map((r) => Number(r.id)),
  )
  for (const [key, list] of byKey) {
    into.set(key, {
      messages: list.slice(0, limit).map((r) => toMessage(r, reactions.get(Number(r.id)) ?? [])),
      hasMore: list.length > limit,
    })
  }
}

const notHidden = (userId: number) =>
  sql`not exists (select 1 from hidden_messages h where h.user_id = ${userId} and h.message_id = m.id)`

/** The newest `limit` messages of each conversation of `userId` with `peers`, as `userId` sees them. */
export async function conversationPages(
  db: Db,
  userId: number,
  peers: readonly number[],
  limit: number,
): Promise<Map<number, { messages: Message[]; hasMore: boolean }>> {
  const result = new Map<number, { messages: Message[]; hasMore: boolean }>()
  for (const chunk of chunks(peers, PAGES_PER_STATEMENT)) {
    await pages(
      db,
      chunk.map((peer) => {
        const [low, high] = peer < userId ? [peer, userId] : [userId, peer]
        return sql`select ${sql.lit(peer)} as k, ${PAGE_COLUMNS} from ${PAGE_FROM}
          where m.user_low = ${low} and m.user_high = ${high}
            and (m.withheld = 0 or m.sender_id = ${userId}) and ${notHidden(userId)}
          order by m.id desc limit ${sql.lit(limit + 1)}`
      }),
      result,
      limit,
    )
    await breathe()
  }
  return result
}

/** The same for groups: each group's newest messages since the reader joined (`sinceSeq`). */
export async function groupPages(
  db: Db,
  userId: number,
  groups: readonly { groupId: number; sinceSeq: number }[],
  limit: number,
): Promise<Map<number, { messages: Message[]; hasMore: boolean }>> {
  const result = new Map<number, { messages: Message[]; hasMore: boolean }>()
  for (const chunk of chunks(groups, PAGES_PER_STATEMENT)) {
    await pages(
      db,
      chunk.map(
        ({ groupId, sinceSeq }) => sql`select ${sql.lit(groupId)} as k, ${PAGE_COLUMNS} from ${PAGE_FROM}
          where m.group_id = ${groupId} and m.group_seq >= ${sinceSeq} and ${notHidden(userId)}
          order by m.id desc limit ${sql.lit(limit + 1)}`,
      ),
      result,
      limit,
    )
    await breathe()
  }
  return result
}

/** Both sides' receipt markers of every conversation of `userId`, by peer. */
export async function conversationMarkers(
  db: Db,
  userId: number,
): Promise<Map<number, { own: SnapshotMarkers; peer: SnapshotMarkers }>> {
  const rows = await db
    .selectFrom('receipts')
    .select(['owner_id', 'peer_id', 'delivered_up_to', 'read_up_to'])
    .where((eb) => eb.or([eb('owner_id', '=', userId), eb('peer_id', '=', userId)]))
    .execute()
  const none = { deliveredUpTo: 0, readUpTo: 0 }
  const result = new Map<number, { own: SnapshotMarkers; peer: SnapshotMarkers }>()
  for (const r of rows) {
    const mine = Number(r.owner_id) === userId
    const peer = Number(mine ? r.peer_id : r.owner_id)
    const entry = result.get(peer) ?? { own: none, peer: none }
    const markers = { deliveredUpTo: Number(r.delivered_up_to), readUpTo: Number(r.read_up_to) }
    result.set(peer, mine ? { ...entry, own: markers } : { ...entry, peer: markers })
  }
  return result
}

export interface Membership {
  group: GroupRow
  role: GroupRoleName
  joinedSeq: number
  own: SnapshotMarkers
}

/** The groups `userId` is in now, with their role, where they joined the log, and their markers. */
export async function membershipsWithMarkers(db: Db, userId: number): Promise<Membership[]> {
  const rows = await db
    .selectFrom('group_members')
    .innerJoin('groups', 'groups.id', 'group_members.group_id')
    .selectAll('groups')
    .select([
      'group_members.role',
      'group_members.joined_seq',
      'group_members.delivered_up_to',
      'group_members.read_up_to',
    ])
    .where('group_members.user_id', '=', userId)
    .orderBy('groups.id')
    .execute()
  return rows.map(({ role, joined_seq, delivered_up_to, read_up_to, ...group }) => ({
    group,
    role,
    joinedSeq: Number(joined_seq),
    own: { deliveredUpTo: Number(delivered_up_to), readUpTo: Number(read_up_to) },
  }))
}

/** Members of each of these groups (longest-serving first), and how far everyone has received and read. */
export async function membersAndEveryone(
  db: Db,
  groupIds: readonly number[],
): Promise<{ members: Map<number, GroupMember[]>; everyone: Map<number, SnapshotMarkers> }> {
  const members = new Map<number, GroupMember[]>()
  const everyone = new Map<number, SnapshotMarkers>()
  for (const chunk of chunks(groupIds, IDS_PER_STATEMENT)) {
    const rows = await db
      .selectFrom('group_members')
      .select(['group_id', 'user_id', 'role', 'joined_at', 'delivered_up_to', 'read_up_to'])
      .where('group_id', 'in', chunk)
      .orderBy('group_id')
      .orderBy('joined_seq')
      .orderBy('user_id')
      .execute()
    for (const r of rows) {
      const groupId = Number(r.group_id)
      const list = members.get(groupId) ?? []
      if (list.length === 0) members.set(groupId, list)
      list.push(toMember(r))
      const low = everyone.get(groupId)
      const delivered = Number(r.delivered_up_to)
      const read = Number(r.read_up_to)
      everyone.set(groupId, {
        deliveredUpTo: low ? Math.min(low.deliveredUpTo, delivered) : delivered,
        readUpTo: low ? Math.min(low.readUpTo, read) : read,
      })
    }
  }
  return { members, everyone }
}
