import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Conversations are keyed by a text key instead of the peer's user id, so that a group can be one:
// `dm:<userId>` for the 1:1 conversations stored so far (`group:<groupId>` later). The outbox and
// drafts name their conversation by the same key; messages keep an integer (a 1:1 conversation is
// the peer's id, so their column is only renamed: see db/conversation-id.ts). Every row is kept.
// Muted peers become muted conversations.

/** A conversation's four receipt markers, as 0001 made them. */
const MARKERS = ['own_delivered_up_to', 'own_read_up_to', 'peer_delivered_up_to', 'peer_read_up_to']

const statements = [
  // messages: the peer's id already is the conversation's id (its index follows the rename).
  'alter table messages rename column peer_id to conversation_id',
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
