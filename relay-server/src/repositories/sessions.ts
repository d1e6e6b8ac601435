import type { Kysely } from 'kysely'
import { fixedQuery } from '../db/fixed-query'
import type { Database, SessionRow } from '../db/schema'

type Db = Kysely<Database>

export async function insertSession(
  db: Db,
  session: {
    user_id: number
    token_hash: string
    created_at: number
    expires_at: number
    device_name: string | null
    address: string | null
  },
): Promise<SessionRow> {
  return db
    .insertInto('sessions')
    .values({ ...session, last_used_at: session.created_at })
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** A fixed statement: every request and every socket handshake looks its token up. */
const selectSessionByHash = fixedQuery<SessionRow, [string]>('select * from sessions where token_hash = ?')

export async function findSessionByHash(db: Db, tokenHash: string): Promise<SessionRow | undefined> {
  const [row] = await selectSessionByHash(db, tokenHash)
  return row
}

/** Records a use of the session: when, from where, and its new (slid) expiry. */
export async function touchSession(
  db: Db,
  id: number,
  use: { now: number; expiresAt: number; address: string | null },
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({
      last_used_at: use.now,
      expires_at: use.expiresAt,
      ...(use.address !== null && { address: use.address }),
    })
    .where('id', '=', id)
    .execute()
}

/** A user's sessions that have not expired, the most recently used first. */
export async function listUserSessions(db: Db, userId: number, now: number): Promise<SessionRow[]> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .orderBy('last_used_at', 'desc')
    .orderBy('id', 'desc')
    .execute()
}

export async function deleteSession(db: Db, id: number): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute()
}

/** Deletes the session only if it is the user's; whether it was. */
export async function deleteUserSession(db: Db, userId: number, id: number): Promise<boolean> {
  const result = await db
    .deleteFrom('sessions')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/** Deletes every session of the user but `keepId`; the ids deleted. */
export async function deleteOtherSessions(db: Db, userId: number, keepId: number): Promise<number[]> {
  const rows = await db
    .deleteFrom('sessions')
    .where('user_id', '=', userId)
    .where('id', '!=', keepId)
    .returning('id')
    .execute()
  return rows.map((row) => row.id)
}

export async function deleteExpiredSessions(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst()
  return Number(result.numDeletedRows)
}
