import type { Kysely } from 'kysely'
import type { Database, InviteRow } from '../db/schema'

type Db = Kysely<Database>

export async function insertInvite(
  db: Db,
  invite: {
    code: string
    max_uses: number
    expires_at: number | null
    created_by: string
    created_at: number
  },
): Promise<InviteRow> {
  return db
    .insertInto('invites')
    .values({ ...invite, revoked_at: null })
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** Whether the code could be used now (a read: `takeInviteUse` decides a race). */
export async function isInviteUsable(db: Db, code: string, now: number): Promise<boolean> {
  const row = await db.selectFrom('invites').selectAll().where('code', '=', code).executeTakeFirst()
  return (
    row !== undefined &&
    row.used < row.max_uses &&
    row.revoked_at === null &&
    (row.expires_at === null || row.expires_at > now)
  )
}

/**
 * Takes one use of the code if it has one left, has not expired and was not revoked; whether it
 * did. One conditional update, so of two registrations racing for the last use only one wins.
 */
export async function takeInviteUse(db: Db, code: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('invites')
    .set((eb) => ({ used: eb('used', '+', 1) }))
    .where('code', '=', code)
    .where((eb) => eb('used', '<', eb.ref('max_uses')))
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function listInvites(db: Db): Promise<InviteRow[]> {
  return db.selectFrom('invites').selectAll().orderBy('created_at', 'desc').orderBy('code').execute()
}

/** Revokes a code that is not revoked yet; whether there was one. */
export async function revokeInvite(db: Db, code: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('invites')
    .set({ revoked_at: now })
    .where('code', '=', code)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}
