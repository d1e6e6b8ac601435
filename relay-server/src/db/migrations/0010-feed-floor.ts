import type { Kysely } from 'kysely'

// Frozen in time: this file must not import application code.
// Snapshots and feed compaction. `feed_floor` is the highest seq of a user's feed that compaction
// may have deleted (0: the feed is whole); a device whose cursor is below it must read a snapshot.
// The second conversation index serves the side of a conversation where the user is `user_high`
// (the first, on user_low, user_high, id, serves the other), so a snapshot finds every
// conversation of a user by index skip-scan instead of reading all of their messages.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('feed_floor', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema
    .createIndex('messages_conversation_high')
    .on('messages')
    .columns(['user_high', 'user_low', 'id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('messages_conversation_high').execute()
  await db.schema.alterTable('users').dropColumn('feed_floor').execute()
}
