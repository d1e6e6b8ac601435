import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Group conversations: the groups this account is or was in (with the cursor of each group's log),
// their members, and the group changes shown in a group's timeline as rows of `messages` (`event`:
// JSON {by, change}; no relay id). An event row sorts just after the group's message it followed
// in the log (`event_after`, a relay message id), so the timeline pages by one key as before.

const PENDING_BASE = 4503599627370496

const statements = [
  `create table groups (
    id integer primary key,
    title text not null,
    avatar text,
    created_at integer not null,
    created_by integer not null,
    member_count integer not null default 0,
    role text,
    left_at integer,
    log_cursor integer not null default 0,
    newest_message_id integer not null default 0
  )`,
  `create table group_members (
    group_id integer not null,
    user_id integer not null,
    role text not null,
    joined_at integer not null,
    primary key (group_id, user_id)
  ) without rowid`,
  'alter table messages add column event text',
  'alter table messages add column event_after integer',
  'drop index messages_conversation',
  'alter table messages drop column sort_key',
  `alter table messages add column sort_key integer generated always as
     (coalesce(server_id, event_after, ${PENDING_BASE} + local_id)) virtual`,
  'create index messages_conversation on messages (conversation_id, sort_key)',
  'create unique index messages_event on messages (client_id) where event is not null',
]

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}
