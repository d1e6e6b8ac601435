import type { Kysely } from 'kysely'

// Frozen in time: this file must not import application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // What a person sees in their list of sessions. Older sessions have neither: they show as
  // unnamed until they sign in again, and get an address on their next use.
  await db.schema.alterTable('sessions').addColumn('device_name', 'text').execute()
  await db.schema.alterTable('sessions').addColumn('address', 'text').execute()

  // Where each user last signed in successfully, by address (IPv6 by its /64). A sign-in from one
  // of these is slowed down only by its own failures, so failures from elsewhere cannot keep the
  // owner of an account out.
  await db.schema
    .createTable('sign_in_addresses')
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('last_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sign_in_addresses_pk', ['user_id', 'address'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sign_in_addresses').execute()
  await db.schema.alterTable('sessions').dropColumn('address').execute()
  await db.schema.alterTable('sessions').dropColumn('device_name').execute()
}
