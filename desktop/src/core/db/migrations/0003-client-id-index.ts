import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// The renderer names each message it hands over with its own clientId and may hand it over again
// when it did not hear back (browser mode's link to the core can drop): finding the message a
// clientId already wrote must not scan the table, sent or not.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index messages_client_id on messages (client_id)`.execute(db)
}
