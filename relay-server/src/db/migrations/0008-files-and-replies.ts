import type { Kysely } from 'kysely'

// Frozen in time: this file must not import application code.
// Richer messages: files of any type (and voice recordings, which are files), replies, forwards,
// and messages hidden by one user for themselves ("delete for me").

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per upload (the id is random); `blob` is the SHA-256 of the bytes, under which they are
  // stored once however many uploads share them.
  await db.schema
    .createTable('files')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('owner_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('blob', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('files_owner').on('files').column('owner_id').execute()
  await db.schema.createIndex('files_blob').on('files').column('blob').execute()

  // A voice message is a file with a length and a waveform (base64 of one byte per sample).
  await db.schema
    .alterTable('messages')
    .addColumn('file_id', 'text', (c) => c.references('files.id'))
    .execute()
  await db.schema.alterTable('messages').addColumn('voice_duration_ms', 'integer').execute()
  await db.schema.alterTable('messages').addColumn('voice_waveform', 'text').execute()
  await db.schema
    .alterTable('messages')
    .addColumn('reply_to_id', 'bigint', (c) => c.references('messages.id'))
    .execute()
  await db.schema
    .alterTable('messages')
    .addColumn('forwarded', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('messages_file').on('messages').column('file_id').execute()

  await db.schema
    .createTable('hidden_messages')
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('message_id', 'bigint', (c) => c.notNull().references('messages.id'))
    .addColumn('hidden_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('hidden_messages_pk', ['user_id', 'message_id'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('hidden_messages').execute()
  await db.schema.dropIndex('messages_file').execute()
  for (const column of ['forwarded', 'reply_to_id', 'voice_waveform', 'voice_duration_ms', 'file_id']) {
    await db.schema.alterTable('messages').dropColumn(column).execute()
  }
  await db.schema.dropTable('files').execute()
}
