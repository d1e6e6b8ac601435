import type { ProfileView } from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { AccountRow } from '../schema'

// The `account` table: one row (id = 1), who this database belongs to and their session.

export function accountRow(db: LocalDb): AccountRow | undefined {
  return db.get(db.kysely.selectFrom('account').selectAll().where('id', '=', 1))
}

export function saveAccount(
  db: LocalDb,
  input: {
    user: Omit<ProfileView, 'avatarImageId'> & { avatarImageId?: string | null }
    relayUrl: string
    token: string
    expiresAt: number
  },
): void {
  const { user } = input
  db.prepare(
    `insert into account (id, user_id, username, first_name, last_name, email, created_at, relay_url, token,
       token_expires_at, avatar_image_id)
     values (1, $id, $username, $firstName, $lastName, $email, $createdAt, $relayUrl, $token, $expiresAt,
       $avatarImageId)
     on conflict (id) do update set username = excluded.username, first_name = excluded.first_name,
       last_name = excluded.last_name, email = excluded.email, relay_url = excluded.relay_url,
       token = excluded.token, token_expires_at = excluded.token_expires_at,
       avatar_image_id = excluded.avatar_image_id
     where account.user_id = excluded.user_id`,
  ).run({
    ...user,
    avatarImageId: user.avatarImageId ?? null,
    relayUrl: input.relayUrl,
    token: input.token,
    expiresAt: input.expiresAt,
  })
}

/** The own profile as the relay last gave it (a REST answer or the feed's user_updated). */
export function updateProfile(
  db: LocalDb,
  user: Pick<ProfileView, 'username' | 'firstName' | 'lastName' | 'email'> & {
    avatarImageId?: string | null
  },
): void {
  db.prepare(
    `update account set username = $username, first_name = $firstName, last_name = $lastName, email = $email,
       avatar_image_id = $avatarImageId where id = 1`,
  ).run({
    username: user.username,
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    avatarImageId: user.avatarImageId ?? null,
  })
}

/** Signed out, or the relay refused the token: the row stays, without a session. */
export function clearToken(db: LocalDb): void {
  db.prepare('update account set token = null, token_expires_at = null where id = 1').run()
}
