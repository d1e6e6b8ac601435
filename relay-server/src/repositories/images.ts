import type { Kysely } from 'kysely'
import type { Database, ImageRow } from '../db/schema'

/** The image if `userId` uploaded it: only the uploader may attach it or make it their avatar. */
export async function findUploadedImage(
  db: Kysely<Database>,
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
