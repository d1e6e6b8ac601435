import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// A message sent to someone who had blocked its sender is kept for the sender only (`withheld`),
// and a contact remembers since when the two are contacts (`accepted_at`), through a block and its
// lifting.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('withheld', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.alterTable('contacts').addColumn('accepted_at', 'bigint').execute()
  // The best a database from before knows: an accepted entry last changed when it was accepted (or
  // when a block on it was lifted). Blocked entries cannot tell whether they ever were accepted.
  await sql`update contacts set accepted_at = updated_at where status = 'accepted'`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('contacts').dropColumn('accepted_at').execute()
  await db.schema.alterTable('messages').dropColumn('withheld').execute()
}
