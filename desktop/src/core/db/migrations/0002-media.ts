import { type Kysely, sql } from 'kysely'

// Frozen in time: this file must not import application code.
// Images on messages, profile pictures, and the index of the on-disk media cache.

const statements = [
  // The attached image as the relay describes it. image_local = 1 while image_id is this device's
  // own id for bytes not uploaded yet (the SHA-256 of the picked file); the upload replaces it.
  'alter table messages add column image_id text',
  'alter table messages add column image_width integer',
  'alter table messages add column image_height integer',
  'alter table messages add column image_mime text',
  'alter table messages add column image_bytes integer',
  'alter table messages add column image_local integer not null default 0',
  'alter table users add column avatar_image_id text',
  'alter table account add column avatar_image_id text',
  // One row per file in the media folder. pinned: bytes waiting for an upload, never evicted.
  `create table media_files (
    image_id text not null,
    size text not null check (size in ('thumb', 'full', 'avatar')),
    mime text not null,
    bytes integer not null,
    last_used_at integer not null,
    pinned integer not null default 0,
    primary key (image_id, size)
  )`,
  'create index media_files_lru on media_files (last_used_at) where pinned = 0',
]

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db)
}
