import { type Kysely, sql } from 'kysely'
import type { Database, FileRow } from '../db/schema'
import { carriedByVisibleMessage } from './messages'

type Db = Kysely<Database>

export async function insertFile(db: Db, row: FileRow): Promise<void> {
  await db.insertInto('files').values(row).execute()
}

export async function findFile(db: Db, id: string): Promise<FileRow | undefined> {
  return db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst()
}

/** The file if `userId` uploaded it: only the uploader may attach it (forwards copy it instead). */
export async function findOwnFile(db: Db, userId: number, id: string): Promise<FileRow | undefined> {
  return db
    .selectFrom('files')
    .selectAll()
    .where('id', '=', id)
    .where('owner_id', '=', userId)
    .executeTakeFirst()
}

/**
 * Whether `userId` uploaded the file, or a message they can see carries it (see
 * carriedByVisibleMessage). Access follows messages, so a forwarded file is open to the forward's
 * readers too.
 */
export async function maySeeFile(db: Db, userId: number, id: string): Promise<boolean> {
  const { rows } = await sql<{ allowed: number }>`
    select 1 as allowed where
      exists (select 1 from files where id = ${id} and owner_id = ${userId})
      or ${carriedByVisibleMessage('file_id', id, userId)}`.execute(db)
  return rows.length > 0
}

/** The bytes of the files `userId` uploaded that the relay keeps, each stored blob counted once. */
export async function storedFileBytes(db: Db, userId: number): Promise<number> {
  const blobs = db
    .selectFrom('files')
    .select(['blob', 'size'])
    .distinct()
    .where('owner_id', '=', userId)
    .as('blobs')
  const row = await db
    .selectFrom(blobs)
    .select((eb) => eb.fn.sum<number | string | null>('blobs.size').as('bytes'))
    .executeTakeFirst()
  return Number(row?.bytes ?? 0)
}

/**
 * Files no message carries (deleted messages carry none): those uploaded before `before`, or those
 * of `among` whatever their age (what an erased account leaves).
 */
export async function filesNoMessageCarries(
  db: Db,
  which: { before: number } | { among: readonly string[] },
): Promise<string[]> {
  if ('among' in which && which.among.length === 0) return []
  const query = db
    .selectFrom('files as f')
    .select('f.id')
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('messages as m').select('m.id').whereRef('m.file_id', '=', 'f.id'))),
    )
  const rows = await ('before' in which
    ? query.where('f.created_at', '<', which.before)
    : query.where('f.id', 'in', [...new Set(which.among)])
  ).execute()
  return rows.map((r) => r.id)
}

/** Deletes these files' rows; returns the blobs no file uses any more (their bytes can go). */
export async function deleteFiles(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const gone = await db.deleteFrom('files').where('id', 'in', ids).returning('blob').execute()
  const blobs = [...new Set(gone.map((r) => r.blob))]
  if (blobs.length === 0) return []
  const kept = await db.selectFrom('files').select('blob').distinct().where('blob', 'in', blobs).execute()
  const stillUsed = new Set(kept.map((r) => r.blob))
  return blobs.filter((blob) => !stillUsed.has(blob))
}

/** The files `userId` uploaded, oldest first. */
export async function filesOwnedBy(db: Db, userId: number): Promise<FileRow[]> {
  return db.selectFrom('files').selectAll().where('owner_id', '=', userId).orderBy('created_at').execute()
}
