import { type Kysely, PostgresAdapter, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Group conversations: the group, its members (with their receipt markers), its log (one totally
// ordered sequence of everything that happens in it), and its invite codes. A message belongs to a
// 1:1 conversation (recipient_id, user_low, user_high) or to a group (group_id, group_seq).

const MESSAGE_COLUMNS =
  'id, sender_id, recipient_id, user_low, user_high, client_id, text, created_at, edited_at, deleted_at, image_id, withheld'

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  const idType = postgres ? 'bigint' : 'integer'

  await db.schema
    .createTable('groups')
    .addColumn('id', idType, (c) =>
      postgres ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('avatar_image_id', 'text', (c) => c.references('images.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'bigint', (c) => c.notNull().references('users.id'))
    // The last seq handed out in the group's log, and how many members it has.
    .addColumn('head_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema.createIndex('groups_avatar').on('groups').column('avatar_image_id').execute()

  // A member's delivered and read markers live on their membership row: one row update per
  // receipt, whatever the group's size. `joined_seq` bounds what of the log they may read.
  await db.schema
    .createTable('group_members')
    .addColumn('group_id', 'bigint', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('joined_at', 'bigint', (c) => c.notNull())
    .addColumn('joined_seq', 'bigint', (c) => c.notNull())
    .addColumn('delivered_up_to', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('read_up_to', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
    .addCheckConstraint('group_members_role', sql`role in ('owner', 'admin', 'member')`)
    .execute()
  await db.schema.createIndex('group_members_user').on('group_members').column('user_id').execute()

  await db.schema
    .createTable('group_events')
    .addColumn('group_id', 'bigint', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('message_id', 'bigint')
    .addColumn('payload', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_events_pk', ['group_id', 'seq'])
    .execute()

  await db.schema
    .createTable('group_invites')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('group_id', 'bigint', (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('max_uses', 'integer')
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_by', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('group_invites_group').on('group_invites').column('group_id').execute()

  if (postgres) {
    await sql`alter table messages alter column recipient_id drop not null, alter column user_low drop not null,
      alter column user_high drop not null`.execute(db)
    await db.schema
      .alterTable('messages')
      .addColumn('group_id', 'bigint', (c) => c.references('groups.id'))
      .execute()
    await db.schema.alterTable('messages').addColumn('group_seq', 'bigint').execute()
  } else {
    // SQLite cannot drop NOT NULL: the table is rebuilt (its documented twelve steps).
    await rebuildSqliteMessages(db, {
      nullable: true,
      extra: ', group_id integer references groups(id), group_seq integer',
      copy: MESSAGE_COLUMNS,
    })
  }
  await db.schema
    .createIndex('messages_group')
    .on('messages')
    .columns(['group_id', 'id'])
    .where(sql.ref('group_id'), 'is not', null)
    .execute()
}

async function rebuildSqliteMessages(
  db: Kysely<unknown>,
  options: { nullable: boolean; extra: string; copy: string },
): Promise<void> {
  const notNull = options.nullable ? '' : ' not null'
  await sql`pragma foreign_keys = off`.execute(db)
  await sql`begin`.execute(db)
  try {
    await sql
      .raw(`create table messages_rebuilt (
        id integer primary key autoincrement,
        sender_id bigint not null references users(id),
        recipient_id bigint${notNull} references users(id),
        user_low bigint${notNull},
        user_high bigint${notNull},
        client_id text not null,
        text text,
        created_at bigint not null,
        edited_at bigint,
        deleted_at bigint,
        image_id text references images(id),
        withheld integer not null default 0${options.extra})`)
      .execute(db)
    await sql
      .raw(`insert into messages_rebuilt (${options.copy}) select ${options.copy} from messages`)
      .execute(db)
    await sql`drop table messages`.execute(db)
    await sql`alter table messages_rebuilt rename to messages`.execute(db)
    await sql`create unique index messages_sender_client on messages (sender_id, client_id)`.execute(db)
    await sql`create index messages_conversation on messages (user_low, user_high, id)`.execute(db)
    await sql`create index messages_image on messages (image_id)`.execute(db)
    const broken = await sql`pragma foreign_key_check`.execute(db)
    if (broken.rows.length > 0) throw new Error('the rebuilt messages table breaks a foreign key')
    await sql`commit`.execute(db)
  } catch (error) {
    await sql`rollback`.execute(db)
    throw error
  } finally {
    await sql`pragma foreign_keys = on`.execute(db)
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter
  await db.schema.dropIndex('messages_group').execute()
  // Group messages cannot exist without groups; their traces go with them.
  const groupMessages = sql`(select id from messages where group_id is not null)`
  await sql`delete from reactions where message_id in ${groupMessages}`.execute(db)
  await sql`delete from message_versions where message_id in ${groupMessages}`.execute(db)
  await sql`delete from feed_events where message_id in ${groupMessages}`.execute(db)
  await sql`delete from messages where group_id is not null`.execute(db)
  if (postgres) {
    await db.schema.alterTable('messages').dropColumn('group_seq').execute()
    await db.schema.alterTable('messages').dropColumn('group_id').execute()
    await sql`alter table messages alter column recipient_id set not null, alter column user_low set not null,
      alter column user_high set not null`.execute(db)
  } else {
    await rebuildSqliteMessages(db, { nullable: false, extra: '', copy: MESSAGE_COLUMNS })
  }
  for (const table of ['group_invites', 'group_events', 'group_members', 'groups']) {
    await db.schema.dropTable(table).execute()
  }
}
