import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// When receipt markers moved, as the relay's feed says (`at` on delivered and read events): the
// account's own (`own`: when it received and read the others' messages) and the other side's in a
// 1:1 conversation (`peer`: when they received and read yours), so the message info shows times
// offline too. One row per move, keyed by it: applying an event twice adds nothing.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`create table receipt_times (
      conversation text not null,
      whose text not null check (whose in ('own', 'peer')),
      kind text not null check (kind in ('delivered', 'read')),
      up_to integer not null,
      at integer not null,
      primary key (conversation, whose, kind, up_to)
    ) without rowid`)
    .execute(db)
}
