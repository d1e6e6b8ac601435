import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Whether this device has played a voice message (someone else's unplayed ones are marked until
// then). Kept on this device only: the protocol carries no played state.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('alter table messages add column voice_played integer not null default 0').execute(db)
}
