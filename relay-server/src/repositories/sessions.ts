import type { Kysely } from 'kysely'
import type { Database, SessionRow } from '../db/schema'

type Db = Kysely<Database>

export async function insertSession(
  db: Db,
  session: { user_id: number; token_hash: string; created_at: number; expires_at: number },
): Promise<SessionRow> {
  return db
    .insertInto('sessions')
    .values({ ...session, last_used_at: session.created_at })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function findSessionByHash(db: Db, tokenHash: string): Promise<SessionRow | undefined> {
  return db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
}

export async function extendSession(db: Db, id: number, now: number, expiresAt: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_used_at: now, expires_at: expiresAt })
    .where('id', '=', id)
    .execute()
}

export async function deleteSession(db: Db, id: number): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute()
}

export async function deleteExpiredSessions(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst()
  return Number(result.numDeletedRows)
}
