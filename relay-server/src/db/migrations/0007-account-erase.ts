import type { Kysely } from 'kysely'

// Frozen in time: this file must not import application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  // When the account was erased (by its owner or an operator): it cannot sign in, its profile is
  // wiped, and after ERASED_USERNAME_GRACE_DAYS its username is released for someone else.
  await db.schema.alterTable('users').addColumn('erased_at', 'bigint').execute()
  // When every step of the erasure finished; an erasure cut short (a crash) is resumed while null.
  await db.schema.alterTable('users').addColumn('erase_finished_at', 'bigint').execute()
  // When the username was given up (the row keeps an unmatchable key from then on).
  await db.schema.alterTable('users').addColumn('username_released_at', 'bigint').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('username_released_at').execute()
  await db.schema.alterTable('users').dropColumn('erase_finished_at').execute()
  await db.schema.alterTable('users').dropColumn('erased_at').execute()
}
