import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter, sql } from 'kysely'

// Frozen in time: this file must not import application code.

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  const idColumn = (col: ColumnDefinitionBuilder) =>
    postgres ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement()
  const idType = postgres ? 'bigint' : 'integer'
  // Byte order for usernames on PostgreSQL, so prefix search is a plain index range scan.
  const keyType = postgres ? sql`text collate "C"` : sql`text`

  await db.schema
    .createTable('users')
    .addColumn('id', idType, idColumn)
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('username_key', keyType, (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('feed_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('last_seen_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('sessions')
    .addColumn('id', idType, idColumn)
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute()

  await db.schema
    .createTable('contacts')
    .addColumn('owner_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('peer_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('contacts_pk', ['owner_id', 'peer_id'])
    .addCheckConstraint('contacts_status', sql`status in ('outgoing', 'incoming', 'accepted', 'blocked')`)
    .execute()
  await db.schema.createIndex('contacts_peer').on('contacts').column('peer_id').execute()

  await db.schema
    .createTable('messages')
    .addColumn('id', idType, idColumn)
    .addColumn('sender_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('recipient_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('user_low', 'bigint', (c) => c.notNull())
    .addColumn('user_high', 'bigint', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('edited_at', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .execute()
  await db.schema
    .createIndex('messages_sender_client')
    .on('messages')
    .columns(['sender_id', 'client_id'])
    .unique()
    .execute()
  await db.schema
    .createIndex('messages_conversation')
    .on('messages')
    .columns(['user_low', 'user_high', 'id'])
    .execute()

  await db.schema
    .createTable('message_versions')
    .addColumn('id', idType, idColumn)
    .addColumn('message_id', 'bigint', (c) => c.notNull().references('messages.id'))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('written_at', 'bigint', (c) => c.notNull())
    .addColumn('replaced_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('message_versions_message')
    .on('message_versions')
    .column('message_id')
    .execute()

  await db.schema
    .createTable('reactions')
    .addColumn('message_id', 'bigint', (c) => c.notNull().references('messages.id'))
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('reactions_pk', ['message_id', 'user_id', 'emoji'])
    .execute()

  await db.schema
    .createTable('receipts')
    .addColumn('owner_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('peer_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('delivered_up_to', 'bigint', (c) => c.notNull())
    .addColumn('read_up_to', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('receipts_pk', ['owner_id', 'peer_id'])
    .execute()

  await db.schema
    .createTable('feed_events')
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('message_id', 'bigint')
    .addColumn('payload', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('feed_events_pk', ['user_id', 'seq'])
    .execute()
  await db.schema
    .createIndex('feed_events_message')
    .on('feed_events')
    .columns(['message_id'])
    .where(sql.ref('message_id'), 'is not', null)
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'feed_events',
    'receipts',
    'reactions',
    'message_versions',
    'messages',
    'contacts',
    'sessions',
    'users',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
