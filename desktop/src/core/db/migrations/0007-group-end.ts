import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Why a group ended for this account: `left`, `removed`, or `deleted` by its owner (the notice a
// read-only group shows). Groups that ended before this stay null: the notice then names no reason.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw('alter table groups add column left_reason text').execute(db)
}
