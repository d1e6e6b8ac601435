import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code. Later changes (images, avatars)
// come as new migrations that add columns; nothing here is rewritten.

/** Pending messages sort after every relay id (2^52 is far above any id a relay hands out). */
const PENDING_BASE = 4503599627370496

const statements = [
  `create table account (
    id integer primary key check (id = 1),
    user_id integer not null,
    username text not null,
    first_name text not null,
    last_name text not null,
    email text not null,
    created_at integer not null,
    relay_url text not null,
    token text,
    token_expires_at integer
  )`,
  `create table users (
    id integer primary key,
    username text not null,
    first_name text not null,
    last_name text not null,
    created_at integer not null
  )`,
  `create table contacts (
    user_id integer primary key,
    status text not null check (status in ('outgoing', 'incoming', 'accepted', 'blocked')),
    created_at integer not null,
    updated_at integer not null,
    presence_status text check (presence_status in ('online', 'away', 'offline')),
    last_seen integer
  )`,
  // AUTOINCREMENT: a local_id is never reused, which the full-text watermark relies on.
  `create table messages (
    local_id integer primary key autoincrement,
    server_id integer unique,
    client_id text not null,
    sender_id integer not null,
    recipient_id integer not null,
    peer_id integer not null,
    text text,
    created_at integer not null,
    edited_at integer,
    deleted_at integer,
    reactions text not null default '[]',
    send_state text not null default 'sent' check (send_state in ('pending', 'sent', 'failed')),
    failure_code text,
    failure_message text,
    sort_key integer generated always as (coalesce(server_id, ${PENDING_BASE} + local_id)) virtual
  )`,
  // Only messages still waiting for their relay id are ever looked up by clientId (when the feed
  // brings them back): a small partial index, instead of one over a million random UUIDs that
  // would slow every synced page down several times.
  'create unique index messages_pending on messages (sender_id, client_id) where server_id is null',
  // Pages of a conversation, and unread counts (a range above the read marker). A separate index
  // for unread counts made every synced page a third slower; counts stay small in practice.
  'create index messages_conversation on messages (peer_id, sort_key)',
  `create table message_versions (
    message_server_id integer not null,
    text text not null,
    written_at integer not null,
    replaced_at integer not null,
    primary key (message_server_id, written_at)
  )`,
  `create table conversations (
    peer_id integer primary key,
    last_activity_at integer not null default 0,
    own_delivered_up_to integer not null default 0,
    own_read_up_to integer not null default 0,
    peer_delivered_up_to integer not null default 0,
    peer_read_up_to integer not null default 0
  )`,
  'create index conversations_recent on conversations (last_activity_at desc, peer_id)',
  // cursor: the highest feed seq applied. text_indexed_up_to: messages up to this local_id are
  // in the full-text index (indexing runs in bulk after a page, not row by row; see text-index.ts).
  `create table sync_state (
    id integer primary key check (id = 1),
    cursor integer not null,
    text_indexed_up_to integer not null
  )`,
  'insert into sync_state (id, cursor, text_indexed_up_to) values (1, 0, 0)',
  `create table outbox (
    id integer primary key autoincrement,
    kind text not null check (kind in ('send', 'edit', 'delete', 'react', 'read', 'delivered')),
    peer_id integer not null,
    message_local_id integer,
    payload text not null default '{}',
    state text not null default 'queued' check (state in ('queued', 'acked', 'failed')),
    attempts integer not null default 0,
    next_attempt_at integer not null default 0,
    ack_seq integer,
    error_code text,
    error_message text,
    created_at integer not null
  )`,
  'create index outbox_message on outbox (message_local_id) where message_local_id is not null',
  'create table drafts (peer_id integer primary key, text text not null, updated_at integer not null)',
  'create table settings (key text primary key, value text not null)',
  // Full-text search over message text. External content: the text is stored once, in messages.
  // New rows are added in bulk (text-index.ts); these triggers keep rows already in the index in
  // step when their text changes or they go (a deleted message's text is null and leaves it).
  `create virtual table messages_fts using fts5(
    text, content = 'messages', content_rowid = 'local_id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
  )`,
  // Merge index segments 16 at a time instead of 4: bulk indexing of a catch-up went from about
  // 140,000 to 220,000 messages a second (FTS5 keeps this setting in the table itself).
  `insert into messages_fts (messages_fts, rank) values ('automerge', 16)`,
  `create trigger messages_fts_delete after delete on messages
    when old.text is not null and old.local_id <= (select text_indexed_up_to from sync_state) begin
    insert into messages_fts (messages_fts, rowid, text) values ('delete', old.local_id, old.text);
  end`,
  `create trigger messages_fts_update after update of text on messages
    when old.text is not new.text and old.local_id <= (select text_indexed_up_to from sync_state) begin
    insert into messages_fts (messages_fts, rowid, text)
      select 'delete', old.local_id, old.text where old.text is not null;
    insert into messages_fts (rowid, text) select new.local_id, new.text where new.text is not null;
  end`,
]

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}
