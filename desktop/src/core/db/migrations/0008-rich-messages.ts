import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Richer messages: a reply's original (`reply_to_id`, a relay id of the same conversation), whether
// the content was forwarded, and for a forward written here the message it copies (`forward_of`,
// until the relay has it); a file and a voice message as the relay describes them (JSON
// {id, name, size, type} and {file, durationMs, waveform}; `file_local` while the file's bytes
// wait on this device); and `hidden`: deleted for this account only ("delete for me"), kept so
// that a later event about the message cannot bring it back. The outbox learns the `hide` kind:
// its check constraint is part of the table, so the (small) table is rebuilt.

const OUTBOX_COLUMNS = `id, kind, conversation, message_local_id, payload, state, attempts, next_attempt_at,
  ack_seq, error_code, error_message, created_at`

const statements = [
  'alter table messages add column reply_to_id integer',
  'alter table messages add column forwarded integer not null default 0',
  'alter table messages add column forward_of integer',
  'alter table messages add column file text',
  'alter table messages add column file_local integer not null default 0',
  'alter table messages add column voice text',
  'alter table messages add column hidden integer not null default 0',
  // The replies to a message, whose quotes change with it (few rows: a partial index).
  'create index messages_reply on messages (reply_to_id) where reply_to_id is not null',
  `create table outbox_new (
    id integer primary key autoincrement,
    kind text not null check (kind in ('send', 'edit', 'delete', 'react', 'read', 'delivered', 'hide')),
    conversation text not null default '',
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
  `insert into outbox_new (${OUTBOX_COLUMNS}) select ${OUTBOX_COLUMNS} from outbox`,
  'drop table outbox',
  'alter table outbox_new rename to outbox',
  'create index outbox_message on outbox (message_local_id) where message_local_id is not null',
]

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}
