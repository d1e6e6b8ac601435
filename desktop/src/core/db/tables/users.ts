import type { PublicUser } from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { UserRow } from '../schema'

// The `users` table: everyone this device has heard of (contacts, message peers), as last seen.

/** A user as the relay sends it (a relay older than profile pictures sends no avatarImageId). */
export type UserFields = Omit<PublicUser, 'avatarImageId'> & { avatarImageId?: string | null }

const UPSERT_USER = `
  insert into users (id, username, first_name, last_name, created_at, avatar_image_id)
  values ($id, $username, $firstName, $lastName, $createdAt, $avatarImageId)
  on conflict (id) do update set username = excluded.username, first_name = excluded.first_name,
    last_name = excluded.last_name, created_at = excluded.created_at,
    avatar_image_id = excluded.avatar_image_id`

export function upsertUser(db: LocalDb, user: UserFields): void {
  db.prepare(UPSERT_USER).run({
    id: user.id,
    username: user.username,
    firstName: user.firstName,
    lastName: user.lastName,
    createdAt: user.createdAt,
    avatarImageId: user.avatarImageId ?? null,
  })
}

export function userRow(db: LocalDb, id: number): UserRow | undefined {
  return db.get(db.kysely.selectFrom('users').selectAll().where('id', '=', id))
}
