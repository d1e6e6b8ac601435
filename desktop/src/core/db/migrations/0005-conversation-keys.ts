import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Conversations are keyed by a text key instead of the peer's user id, so that a group can be one:
// `dm:<userId>` for the 1:1 conversations stored so far (`group:<groupId>` later). Messages, the
// outbox and drafts name their conversation by the same key; every row is kept. Muted peers become
// muted conversations.

/** A conversation's four receipt markers, as 0001 made them. */
const MARKERS = ['own_delivered_up_to', 'own_read_up_to', 'peer_delivered_up_to', 'peer_read_up_to']

const statements = [
  // messages: a new column, filled, indexed as peer_id was; then peer_id goes (its index first).
  `alter table messages add column conversation text not null default ''`,
  `update messages set conversation = 'dm:' || peer_id`,
  'drop index messages_conversation',
  'alter table messages drop column peer_id',
  'create index messages_conversation on messages (conversation, sort_key)',
  // conversations and drafts: small tables whose primary key changes, so rebuilt.
  `create table conversations_new (key text primary key, last_activity_at integer not null default 0,
    ${MARKERS.map((m) => `${m} integer not null default 0`).join(', ')})`,
  `insert into conversations_new (key, last_activity_at, ${MARKERS.join(', ')})
   select 'dm:' || peer_id, last_activity_at, ${MARKERS.join(', ')} from conversations`,
  'drop table conversations',
  'alter table conversations_new rename to conversations',
  'create index conversations_recent on conversations (last_activity_at desc, key)',
  'create table drafts_new (conversation text primary key, text text not null, updated_at integer not null)',
  `insert into drafts_new (conversation, text, updated_at) select 'dm:' || peer_id, text, updated_at from drafts`,
  'drop table drafts',
  'alter table drafts_new rename to drafts',
  `alter table outbox add column conversation text not null default ''`,
  `update outbox set conversation = 'dm:' || peer_id`,
  'alter table outbox drop column peer_id',
  `insert into settings (key, value)
     select 'mutedConversations', (select json_group_array('dm:' || value) from json_each(settings.value))
     from settings where key = 'mutedPeers' and json_valid(value) and json_type(value) = 'array'
   on conflict (key) do nothing`,
  `delete from settings where key = 'mutedPeers'`,
]

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}
