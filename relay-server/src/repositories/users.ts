import type { OwnUser, PublicUser } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database, NewUser, UserRow } from '../db/schema'

type Db = Kysely<Database>

export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    username: row.username,
    firstName: row.first_name,
    lastName: row.last_name,
    avatarImageId: row.avatar_image_id,
    createdAt: row.created_at,
  }
}

export function toOwnUser(row: UserRow): OwnUser {
  return { ...toPublicUser(row), email: row.email }
}

export async function insertUser(db: Db, user: NewUser): Promise<UserRow> {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow()
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findUsersByIds(db: Db, ids: readonly number[]): Promise<UserRow[]> {
  if (ids.length === 0) return []
  return db
    .selectFrom('users')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .execute()
}

export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('username_key', '=', username.toLowerCase())
    .executeTakeFirst()
}

/**
 * Usernames starting with `prefix`, case-insensitively. A range on the lowercased key (byte
 * order on both dialects) so the unique index answers it without a scan.
 */
export async function searchUsersByPrefix(
  db: Db,
  prefix: string,
  limit: number,
  options: { includeErased?: boolean } = {},
): Promise<UserRow[]> {
  const key = prefix.toLowerCase()
  let query = db
    .selectFrom('users')
    .selectAll()
    .where('username_key', '>=', key)
    .where('username_key', '<', `${key}\u{10ffff}`)
  // Erased accounts are found by nobody but the operator.
  if (!options.includeErased) query = query.where('erased_at', 'is', null)
  return query.orderBy('username_key').limit(limit).execute()
}

export async function updateProfile(
  db: Db,
  id: number,
  fields: { first_name?: string; last_name?: string; email?: string; avatar_image_id?: string | null },
  now: number,
): Promise<UserRow> {
  return db
    .updateTable('users')
    .set({ ...fields, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function setPasswordHash(db: Db, id: number, passwordHash: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, updated_at: now })
    .where('id', '=', id)
    .execute()
}

export async function setLastSeen(db: Db, ids: readonly number[], at: number): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('users').set({ last_seen_at: at }).where('id', 'in', ids).execute()
}
