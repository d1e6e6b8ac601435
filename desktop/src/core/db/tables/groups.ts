import { createHash } from 'node:crypto'
import type { Group, GroupMember, GroupRole } from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { GroupEndReason, GroupMemberRow, GroupRow } from '../schema'

// The `groups` and `group_members` tables: the groups this account is in (or was: `left_at`), each
// with the cursor of its log, and their members as last known.

export function groupRow(db: LocalDb, id: number): GroupRow | undefined {
  return db.prepare('select * from groups where id = ?').get(id) as GroupRow | undefined
}

export function groupRows(db: LocalDb): GroupRow[] {
  return db.prepare('select * from groups').all() as GroupRow[]
}

/** Members, the owner first, then admins, then members, each oldest first. */
export function groupMembers(db: LocalDb, groupId: number): GroupMemberRow[] {
  return db
    .prepare(
      `select * from group_members where group_id = ?
       order by case role when 'owner' then 0 when 'admin' then 1 else 2 end, joined_at, user_id`,
    )
    .all(groupId) as GroupMemberRow[]
}

export function memberRole(db: LocalDb, groupId: number, userId: number): GroupRole | undefined {
  return db
    .prepare('select role from group_members where group_id = ? and user_id = ?')
    .pluck()
    .get(groupId, userId) as GroupRole | undefined
}

/**
 * A snapshot of a group (the feed's `group_added`, or a relay answer): its fields, and its members
 * when it carries them. The log cursor moves up to the snapshot's head only when `cursorTo` says so
 * (a newly added group reads its log after the entry that added this account).
 */
export function saveGroup(db: LocalDb, me: number, group: Group, cursorTo?: number): void {
  db.prepare(
    `insert into groups (id, title, avatar, created_at, created_by, member_count, role, left_at, log_cursor)
     values ($id, $title, $avatar, $createdAt, $createdBy, $memberCount, $role, null, $cursor)
     on conflict (id) do update set title = excluded.title, avatar = excluded.avatar,
       member_count = excluded.member_count, role = excluded.role, left_at = null, left_reason = null,
       log_cursor = max(log_cursor, excluded.log_cursor)`,
  ).run({
    id: group.id,
    title: group.title,
    avatar: group.avatar,
    createdAt: group.createdAt,
    createdBy: group.createdBy,
    memberCount: group.memberCount,
    role: group.role,
    cursor: cursorTo ?? 0,
  })
  if (group.members) {
    db.prepare('delete from group_members where group_id = ?').run(group.id)
    for (const m of group.members) putMember(db, group.id, m)
  }
  // Your own role is known even from a list without members.
  db.prepare('update group_members set role = ? where group_id = ? and user_id = ?').run(
    group.role,
    group.id,
    me,
  )
}

export function putMember(db: LocalDb, groupId: number, m: GroupMember): void {
  db.prepare(
    `insert into group_members (group_id, user_id, role, joined_at) values (?, ?, ?, ?)
     on conflict (group_id, user_id) do update set role = excluded.role, joined_at = excluded.joined_at`,
  ).run(groupId, m.userId, m.role, m.joinedAt)
}

export function dropMember(db: LocalDb, groupId: number, userId: number): void {
  db.prepare('delete from group_members where group_id = ? and user_id = ?').run(groupId, userId)
}

export function setMemberRole(db: LocalDb, groupId: number, userId: number, role: GroupRole): void {
  db.prepare('update group_members set role = ? where group_id = ? and user_id = ?').run(
    role,
    groupId,
    userId,
  )
}

/** Member count and your role, from the members table (after a log entry changed them). */
export function recountGroup(db: LocalDb, groupId: number, me: number): void {
  db.prepare(
    `update groups set member_count = (select count(*) from group_members where group_id = $id),
       role = (select role from group_members where group_id = $id and user_id = $me)
     where id = $id and left_at is null`,
  ).run({ id: groupId, me })
}

export function setGroupFields(
  db: LocalDb,
  groupId: number,
  fields: { title?: string; avatar?: string | null },
) {
  if (fields.title !== undefined)
    db.prepare('update groups set title = ? where id = ?').run(fields.title, groupId)
  if (fields.avatar !== undefined)
    db.prepare('update groups set avatar = ? where id = ?').run(fields.avatar, groupId)
}

/** You left, were removed, or the group was deleted: it stays, read only, without members. */
export function markLeft(db: LocalDb, groupId: number, at: number, reason: GroupEndReason): boolean {
  const changed = db
    .prepare(
      `update groups set role = null, left_at = ?, left_reason = ?, member_count = 0
       where id = ? and left_at is null`,
    )
    .run(at, reason, groupId).changes
  db.prepare('delete from group_members where group_id = ?').run(groupId)
  return changed > 0
}

export function setLogCursor(db: LocalDb, groupId: number, seq: number): void {
  db.prepare('update groups set log_cursor = max(log_cursor, ?) where id = ?').run(seq, groupId)
}

export function noteGroupMessage(db: LocalDb, groupId: number, messageId: number): void {
  db.prepare('update groups set newest_message_id = max(newest_message_id, ?) where id = ?').run(
    messageId,
    groupId,
  )
}

/** A UUID (version 5 layout) named by `name`: the same event always gets the same client id. */
export function eventClientId(name: string): string {
  const h = createHash('sha1').update(`parley-group-event:${name}`).digest('hex')
  const variant = ((Number.parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`
}

/** Writes a group change as a row of the group's timeline (once: by its client id). */
export function insertEventRow(
  db: LocalDb,
  input: { groupId: number; clientId: string; by: number; event: unknown; at: number },
): number | undefined {
  const after = (db.prepare('select newest_message_id from groups where id = ?').pluck().get(input.groupId) ??
    0) as number
  return db
    .prepare(
      `insert into messages (client_id, sender_id, recipient_id, conversation_id, text, created_at, send_state,
         reactions, event, event_after)
       values (?, ?, 0, ?, null, ?, 'sent', '[]', ?, ?)
       on conflict (client_id) where event is not null do nothing
       returning local_id`,
    )
    .pluck()
    .get(
      eventClientId(input.clientId),
      input.by,
      -input.groupId,
      input.at,
      JSON.stringify(input.event),
      Math.max(after, 1),
    ) as number | undefined
}
