import { type Kysely, sql } from 'kysely'
import type { Database, ImageRow } from '../db/schema'
import { carriedByVisibleMessage } from './messages'

type Db = Kysely<Database>

/** The image if `userId` uploaded it: only the uploader may attach it or make it their avatar. */
export async function findUploadedImage(
  db: Db,
  userId: number,
  imageId: string,
): Promise<ImageRow | undefined> {
  return db
    .selectFrom('images')
    .innerJoin('image_uploads', 'image_uploads.image_id', 'images.id')
    .selectAll('images')
    .where('images.id', '=', imageId)
    .where('image_uploads.user_id', '=', userId)
    .executeTakeFirst()
}

export async function findImage(db: Db, id: string): Promise<ImageRow | undefined> {
  return db.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Stores the image once, whoever uploads it, and that `userId` uploaded it (again) at `now`. */
export async function recordUpload(
  db: Db,
  image: Omit<ImageRow, 'created_at'>,
  userId: number,
  now: number,
): Promise<void> {
  await db
    .insertInto('images')
    .values({ ...image, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute()
  await db
    .insertInto('image_uploads')
    .values({ image_id: image.id, user_id: userId, created_at: now })
    .onConflict((oc) => oc.columns(['image_id', 'user_id']).doUpdateSet({ created_at: now }))
    .execute()
}

/**
 * Whether `userId` uploaded the image, anyone or any group has it as their picture, or it is on a
 * message (not deleted) that `userId` sent or received (unless withheld from them), or on a message
 * of a group they are in, sent since they joined.
 */
export async function maySeeImage(db: Db, userId: number, id: string): Promise<boolean> {
  const { rows } = await sql<{ allowed: number }>`
    select 1 as allowed where
      exists (select 1 from image_uploads where image_id = ${id} and user_id = ${userId})
      or exists (select 1 from users where avatar_image_id = ${id})
      or exists (select 1 from groups where avatar_image_id = ${id})
      or ${carriedByVisibleMessage('image_id', id, userId)}`.execute(db)
  return rows.length > 0
}

/** Images created before `cutoff` that no message or profile uses and nobody uploaded since. */
export async function unusedImageIds(db: Db, cutoff: number): Promise<string[]> {
  const rows = await db
    .selectFrom('images as i')
    .select('i.id')
    .where('i.created_at', '<', cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('messages as m').select('m.id').whereRef('m.image_id', '=', 'i.id'))),
    )
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('users as u').select('u.id').whereRef('u.avatar_image_id', '=', 'i.id'))),
    )
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('groups as g').select('g.id').whereRef('g.avatar_image_id', '=', 'i.id'))),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('image_uploads as up')
            .select('up.image_id')
            .whereRef('up.image_id', '=', 'i.id')
            .where('up.created_at', '>=', cutoff),
        ),
      ),
    )
    .execute()
  return rows.map((r) => r.id)
}

export async function deleteImages(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await db.deleteFrom('image_uploads').where('image_id', 'in', ids).execute()
  await db.deleteFrom('images').where('id', 'in', ids).execute()
}

/** Of these images, the ones no message, profile or upload uses any more. */
export async function unreferencedImageIds(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await db
    .selectFrom('images as i')
    .select('i.id')
    .where('i.id', 'in', [...new Set(ids)])
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('messages as m').select('m.id').whereRef('m.image_id', '=', 'i.id'))),
    )
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('users as u').select('u.id').whereRef('u.avatar_image_id', '=', 'i.id'))),
    )
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('groups as g').select('g.id').whereRef('g.avatar_image_id', '=', 'i.id'))),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(selectFrom('image_uploads as up').select('up.image_id').whereRef('up.image_id', '=', 'i.id')),
      ),
    )
    .execute()
  return rows.map((r) => r.id)
}

/** The images `userId` uploaded. */
export async function uploadedImageIds(db: Db, userId: number): Promise<string[]> {
  const rows = await db.selectFrom('image_uploads').select('image_id').where('user_id', '=', userId).execute()
  return rows.map((r) => r.image_id)
}

/** The bytes (as stored, re-encoded) of the images `userId` uploaded, counted once each. */
export async function uploadedBytes(db: Db, userId: number): Promise<number> {
  const row = await db
    .selectFrom('image_uploads')
    .innerJoin('images', 'images.id', 'image_uploads.image_id')
    .select((eb) => eb.fn.sum<number | string | null>('images.bytes').as('bytes'))
    .where('image_uploads.user_id', '=', userId)
    .executeTakeFirst()
  return Number(row?.bytes ?? 0)
}
