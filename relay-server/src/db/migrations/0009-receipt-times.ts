import type { Kysely } from 'kysely'

// Frozen in time: this file must not import application code.
// When receipts happened: one row each time a delivered or read marker moved (1:1 or group), so the
// sender can be told when each person received and read a message (GET /messages/:id/receipts).
// A marker only moves forward, to a message id beyond where it was, so a person has at most one row
// per message and kind in a conversation: the table is bounded by the messages, like the markers' moves.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('receipt_marks')
    // Whose marker moved.
    .addColumn('user_id', 'bigint', (c) => c.notNull())
    // Their 1:1 conversation with peer_id, or group group_id: exactly one of the two is set.
    .addColumn('peer_id', 'bigint')
    .addColumn('group_id', 'bigint')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('up_to', 'bigint', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('receipt_marks_peer')
    .on('receipt_marks')
    .columns(['user_id', 'peer_id', 'up_to'])
    .execute()
  await db.schema
    .createIndex('receipt_marks_group')
    .on('receipt_marks')
    .columns(['group_id', 'up_to'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('receipt_marks').execute()
}
