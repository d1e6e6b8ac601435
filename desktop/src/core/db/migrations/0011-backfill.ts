import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// A device that starts from a snapshot (GET /sync/snapshot) has each conversation's newest page;
// older messages are read in the background, page by page, newest first. One row per conversation
// still to fill: `before_id` is the oldest relay message id it has read (the next page is before
// it), `done` once the relay said there is nothing older. Kept here so a restart resumes.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(
      `create table backfill (
        conversation text primary key,
        before_id integer not null,
        done integer not null default 0
      )`,
    )
    .execute(db)
}
