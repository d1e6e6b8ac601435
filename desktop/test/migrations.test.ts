import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import SQLite from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { LocalDb, StoreTooNewError } from '../src/core/db/local-db'
import { migrations } from '../src/core/db/migrations/index'
import { settingsOf } from '../src/core/db/tables/settings'
import { cursorOf } from '../src/core/db/tables/sync-state'
import { indexText, textBacklog } from '../src/core/db/text-index'
import { openTestDb, tempFile } from './helpers/store'

function objects(db: LocalDb): string[] {
  return db.sqlite
    .prepare(`select type || ' ' || name from sqlite_master where name not like 'sqlite_%' order by 1`)
    .pluck()
    .all() as string[]
}

const fingerprint = (file: string) => ({
  sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
  mtimeMs: statSync(file).mtimeMs,
})

describe('local store migrations', () => {
  it('0001 creates every table, index and trigger, with the cursor at 0', async () => {
    const db = await LocalDb.open(tempFile())
    expect(objects(db)).toEqual(
      expect.arrayContaining([
        'table account',
        'table contacts',
        'table conversations',
        'table drafts',
        'table message_versions',
        'table messages',
        'table messages_fts',
        'table outbox',
        'table settings',
        'table sync_state',
        'table users',
        'index messages_conversation',
        'index messages_pending',
        'trigger messages_fts_update',
        'trigger messages_fts_delete',
      ]),
    )
    expect(cursorOf(db)).toBe(0)
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal')
    await db.close()
  })

  it('0001 keeps the full-text index in step with every insert, edit and delete', async () => {
    const db = await LocalDb.open(tempFile())
    const insert = db.prepare(
      `insert into messages (server_id, client_id, sender_id, recipient_id, conversation_id, text, created_at)
       values (?, ?, 2, 1, 2, ?, 1)`,
    )
    for (let i = 1; i <= 50; i++) insert.run(i, `client-${i}`, `text number ${i}`)
    expect(indexText(db)).toBe(0)
    // Rows the index already holds, changed through the triggers...
    db.prepare(`update messages set text = 'rewritten' where server_id <= 10`).run()
    db.prepare(`update messages set text = null where server_id between 11 and 20`).run()
    db.prepare(`update messages set reactions = '[]' where server_id > 20`).run()
    db.prepare(`delete from messages where server_id between 46 and 50`).run()
    // ...and rows not indexed yet, changed before the bulk step reaches them.
    for (let i = 51; i <= 60; i++) insert.run(i, `client-${i}`, `late number ${i}`)
    db.prepare(`update messages set text = 'late and rewritten' where server_id = 51`).run()
    db.prepare(`delete from messages where server_id = 52`).run()
    expect(textBacklog(db)).toBe(10)
    expect(indexText(db)).toBe(0)
    // FTS5 compares the index with the content table and throws if they differ.
    expect(() =>
      db.prepare(`insert into messages_fts (messages_fts) values ('integrity-check')`).run(),
    ).not.toThrow()
    const count = (q: string) =>
      db.prepare(`select count(*) from messages_fts where messages_fts match ?`).pluck().get(q)
    expect(count('rewritten')).toBe(11)
    expect(count('number')).toBe(25 + 8)
    await db.close()
  })

  it('0002 adds image and avatar columns and the media index to a 0001 database, keeping its rows', async () => {
    const file = tempFile()
    const old = await LocalDb.open(file, { migrations: { '0001-initial': migrations['0001-initial']! } })
    old
      .prepare(
        `insert into messages (server_id, client_id, sender_id, recipient_id, peer_id, text, created_at)
       values (7, 'c-7', 2, 1, 2, 'from before images', 1)`,
      )
      .run()
    old
      .prepare(
        `insert into users (id, username, first_name, last_name, created_at) values (2, 'g', 'G', 'H', 1)`,
      )
      .run()
    await old.close()
    const db = await LocalDb.open(file)
    expect(objects(db)).toEqual(expect.arrayContaining(['table media_files', 'index media_files_lru']))
    expect(
      db
        .prepare('select text, image_id, image_width, image_mime, image_bytes, image_local from messages')
        .get(),
    ).toEqual({
      text: 'from before images',
      image_id: null,
      image_width: null,
      image_mime: null,
      image_bytes: null,
      image_local: 0,
    })
    expect(db.prepare('select avatar_image_id from users where id = 2').pluck().get()).toBeNull()
    const columns = (table: string) =>
      (db.prepare(`pragma table_info(${table})`).all() as { name: string }[]).map((c) => c.name)
    expect(columns('account')).toContain('avatar_image_id')
    expect(columns('messages')).toEqual(
      expect.arrayContaining(['image_id', 'image_width', 'image_height', 'image_mime', 'image_bytes']),
    )
    expect(() =>
      db
        .prepare(
          `insert into media_files (image_id, size, mime, bytes, last_used_at) values ('x', 'huge', 'a', 1, 1)`,
        )
        .run(),
    ).toThrow(/CHECK/)
    await db.close()
  })

  it('0005 keys conversations, messages, drafts, the outbox and muted peers by conversation, keeping every row', async () => {
    const file = tempFile()
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0005'))
    const old = await LocalDb.open(file, { migrations: before })
    const run = (statement: string) => old.prepare(statement).run()
    run(`insert into messages (server_id, client_id, sender_id, recipient_id, peer_id, text, created_at)
         values (7, 'c-7', 2, 1, 2, 'from two', 1), (8, 'c-8', 1, 3, 3, 'to three', 2)`)
    run(`insert into messages (client_id, sender_id, recipient_id, peer_id, text, created_at, send_state)
         values ('c-9', 1, 2, 2, 'pending to two', 3, 'pending')`)
    run(
      `insert into conversations (peer_id, last_activity_at, own_read_up_to, peer_read_up_to) values (2, 5, 7, 0), (3, 6, 0, 8)`,
    )
    run(`insert into drafts (peer_id, text, updated_at) values (3, 'half', 4)`)
    run(
      `insert into outbox (kind, peer_id, message_local_id, payload, created_at) values ('send', 2, 3, '{}', 3)`,
    )
    run(`insert into settings (key, value) values ('mutedPeers', '[3, 2]'), ('theme', '"dark"')`)
    await old.close()

    const db = await LocalDb.open(file)
    const all = (query: string) => db.prepare(query).all()
    expect(all('select local_id, server_id, conversation_id, text from messages order by local_id')).toEqual([
      { local_id: 1, server_id: 7, conversation_id: 2, text: 'from two' },
      { local_id: 2, server_id: 8, conversation_id: 3, text: 'to three' },
      { local_id: 3, server_id: null, conversation_id: 2, text: 'pending to two' },
    ])
    expect(
      all('select key, last_activity_at, own_read_up_to, peer_read_up_to from conversations order by key'),
    ).toEqual([
      { key: 'dm:2', last_activity_at: 5, own_read_up_to: 7, peer_read_up_to: 0 },
      { key: 'dm:3', last_activity_at: 6, own_read_up_to: 0, peer_read_up_to: 8 },
    ])
    expect(all('select conversation, text from drafts')).toEqual([{ conversation: 'dm:3', text: 'half' }])
    expect(all('select kind, conversation, message_local_id from outbox')).toEqual([
      { kind: 'send', conversation: 'dm:2', message_local_id: 3 },
    ])
    expect(settingsOf(db)).toMatchObject({ mutedConversations: ['dm:3', 'dm:2'], theme: 'dark' })
    // Pages still come off the conversation index, and a group can have a row of its own.
    expect(
      all(
        `explain query plan select * from messages where conversation_id = 2 order by sort_key desc limit 50`,
      ),
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ detail: expect.stringContaining('messages_conversation') }),
      ]),
    )
    db.prepare(`insert into conversations (key, last_activity_at) values ('group:1', 9)`).run()
    expect(db.prepare(`select count(*) from conversations`).pluck().get()).toBe(3)
    expect(db.prepare('pragma integrity_check').pluck().get()).toBe('ok')
    await db.close()
  })

  it('reopening runs nothing again and keeps the data', async () => {
    const file = tempFile()
    const db = await openTestDb(file)
    db.prepare('update sync_state set cursor = 42').run()
    await db.close()
    const again = await LocalDb.open(file)
    expect(cursorOf(again)).toBe(42)
    expect(again.sqlite.prepare('select name from kysely_migration').pluck().all()).toEqual(
      Object.keys(migrations),
    )
    await again.close()
  })

  it('a database an older build left behind is brought forward', async () => {
    const file = tempFile()
    const old = await LocalDb.open(file, { migrations: {} })
    expect(objects(old)).not.toContain('table messages')
    await old.close()
    const current = await LocalDb.open(file)
    expect(objects(current)).toContain('table messages')
    await current.close()
  })

  it('a database written by a newer version is refused with a clear error and left untouched', async () => {
    const file = tempFile()
    const db = await openTestDb(file)
    db.prepare(
      `insert into kysely_migration (name, timestamp) values ('0002-from-the-future', '2030-01-01')`,
    ).run()
    await db.close()
    expect(existsSync(`${file}-wal`)).toBe(false)
    const before = fingerprint(file)

    const error = await LocalDb.open(file).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreTooNewError)
    expect((error as StoreTooNewError).unknownMigrations).toEqual(['0002-from-the-future'])
    expect((error as Error).message).toMatch(/newer version of Parley.*0002-from-the-future.*update Parley/)
    expect(fingerprint(file)).toEqual(before)
    // Still a healthy database for the newer build.
    const check = new SQLite(file, { readonly: true })
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok')
    check.close()
  })
})
