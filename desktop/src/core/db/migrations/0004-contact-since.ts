import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Since when a contact is one, as the relay says (kept through a block and its lifting). Entries
// stored before it stay null until the relay sends them again; until then they show when they
// last changed.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('alter table contacts add column accepted_at integer').execute(db)
}
