import type { GroupInvite } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, GroupInviteRow } from '../db/schema'

// Codes that let someone join a group. Not to be confused with registration invites
// (invites.ts), which let someone create an account on the relay.

type Db = Kysely<Database>

export function toGroupInvite(row: GroupInviteRow): GroupInvite {
  return {
    code: row.code,
    groupId: row.group_id,
    maxUses: row.max_uses,
    uses: row.uses,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
  }
}

export async function insertGroupInvite(
  db: Db,
  invite: Omit<GroupInviteRow, 'uses' | 'revoked_at'>,
): Promise<GroupInviteRow> {
  return db.insertInto('group_invites').values(invite).returningAll().executeTakeFirstOrThrow()
}

export async function findInvite(db: Db, code: string): Promise<GroupInviteRow | undefined> {
  return db.selectFrom('group_invites').selectAll().where('code', '=', code).executeTakeFirst()
}

/** The invite if it can still be used at `now`: not revoked, not expired, not used up. */
export async function findUsableInvite(
  db: Db,
  code: string,
  now: number,
): Promise<GroupInviteRow | undefined> {
  const row = await findInvite(db, code)
  return row && isUsable(row, now) ? row : undefined
}

function isUsable(row: GroupInviteRow, now: number): boolean {
  return (
    row.revoked_at === null &&
    (row.expires_at === null || row.expires_at > now) &&
    (row.max_uses === null || row.uses < row.max_uses)
  )
}

export async function usableInvitesOf(db: Db, groupId: number, now: number): Promise<GroupInviteRow[]> {
  const rows = await db
    .selectFrom('group_invites')
    .selectAll()
    .where('group_id', '=', groupId)
    .orderBy('created_at')
    .orderBy('code')
    .execute()
  return rows.filter((r) => isUsable(r, now))
}

/** Counts one use, only while one is left (two joins racing for the last use cannot both have it). */
export async function useInvite(db: Db, code: string): Promise<boolean> {
  const result = await db
    .updateTable('group_invites')
    .set((eb) => ({ uses: eb('uses', '+', 1) }))
    .where('code', '=', code)
    .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Revokes a usable invite of the group; false when there is none with that code. */
export async function revokeGroupInvite(
  db: Db,
  groupId: number,
  code: string,
  now: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('group_invites')
    .selectAll()
    .where('code', '=', code)
    .where('group_id', '=', groupId)
    .executeTakeFirst()
  if (!row || !isUsable(row, now)) return false
  await db.updateTable('group_invites').set({ revoked_at: now }).where('code', '=', code).execute()
  return true
}

/** Revokes up to `limit` of the not yet revoked invites `userId` made (an erasure); how many. */
export async function revokeInvitesBy(db: Db, userId: number, now: number, limit: number): Promise<number> {
  const rows = await db
    .selectFrom('group_invites')
    .select('code')
    .where('created_by', '=', userId)
    .where('revoked_at', 'is', null)
    .limit(limit)
    .execute()
  const codes = rows.map((r) => r.code)
  if (codes.length > 0) {
    await db.updateTable('group_invites').set({ revoked_at: now }).where('code', 'in', codes).execute()
  }
  return codes.length
}

/** Revokes every invite of a group not yet revoked (the group is deleted). */
export async function revokeInvitesOf(db: Db, groupId: number, now: number): Promise<void> {
  await db
    .updateTable('group_invites')
    .set({ revoked_at: now })
    .where('group_id', '=', groupId)
    .where('revoked_at', 'is', null)
    .execute()
}
