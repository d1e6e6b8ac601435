import type { Kysely } from 'kysely'

// Frozen in time: this file must not import application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('images')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('mime', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()

  // Who uploaded an image: only they may attach it or make it their avatar.
  await db.schema
    .createTable('image_uploads')
    .addColumn('image_id', 'text', (c) => c.notNull().references('images.id').onDelete('cascade'))
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_uploads_pk', ['image_id', 'user_id'])
    .execute()
  await db.schema.createIndex('image_uploads_user').on('image_uploads').column('user_id').execute()

  await db.schema
    .alterTable('messages')
    .addColumn('image_id', 'text', (c) => c.references('images.id'))
    .execute()
  await db.schema.createIndex('messages_image').on('messages').column('image_id').execute()
  await db.schema
    .alterTable('users')
    .addColumn('avatar_image_id', 'text', (c) => c.references('images.id'))
    .execute()
  await db.schema.createIndex('users_avatar').on('users').column('avatar_image_id').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_avatar').execute()
  await db.schema.alterTable('users').dropColumn('avatar_image_id').execute()
  await db.schema.dropIndex('messages_image').execute()
  await db.schema.alterTable('messages').dropColumn('image_id').execute()
  await db.schema.dropTable('image_uploads').execute()
  await db.schema.dropTable('images').execute()
}
