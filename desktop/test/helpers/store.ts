import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FeedEvent, Message, PublicUser } from '@parley/shared'
import SQLite from 'better-sqlite3-multiple-ciphers'
import { LocalDb } from '../../src/core/db/local-db'
import { saveAccount } from '../../src/core/db/tables/account'
import { silentLogger } from '../../src/core/logger'
import type { TokenCipher } from '../../src/core/options'
import { loadStoreKey } from '../../src/core/store-key'

export const ME = 1

export function tempFile(name = 'store.sqlite'): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'parley-store-')), name)
}

/**
 * A connection of its own to a core's account store, keyed as the core keys it (the data folder's
 * store.key, or the sealed key opened with `cipher`), for tests that look inside.
 */
export async function rawStore(
  dataDir: string,
  file: string,
  cipher?: TokenCipher,
  options: SQLite.Options = { readonly: true },
): Promise<SQLite.Database> {
  const { key } = await loadStoreKey(dataDir, cipher, silentLogger)
  const sqlite = new SQLite(file, options)
  sqlite.pragma("cipher = 'sqlcipher'")
  sqlite.pragma('legacy = 4')
  sqlite.pragma(`key = "x'${key.toString('hex')}'"`)
  return sqlite
}

/** A store that belongs to user 1 on a made-up relay. */
export async function openTestDb(file = tempFile()): Promise<LocalDb> {
  const db = await LocalDb.open(file)
  saveAccount(db, {
    user: {
      id: ME,
      username: 'ada',
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
      createdAt: 1,
    },
    relayUrl: 'http://127.0.0.1:1',
    token: 'token',
    expiresAt: 10_000_000_000_000,
  })
  return db
}

/** A message as the relay would send it (a factory: override only what the test is about). */
export function message(overrides: Partial<Message> & Pick<Message, 'id'>): Message {
  return {
    clientId: randomUUID(),
    senderId: 2,
    recipientId: ME,
    groupId: null,
    text: `message ${overrides.id}`,
    image: null,
    file: null,
    voice: null,
    replyToId: null,
    forwarded: false,
    createdAt: 1_700_000_000_000 + overrides.id * 1000,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    ...overrides,
  }
}

/** Feed events numbered from `firstSeq`. */
export function feed(firstSeq: number, events: Omit<FeedEvent, 'seq'>[]): FeedEvent[] {
  return events.map((event, index) => ({ ...event, seq: firstSeq + index }) as FeedEvent)
}

/** A user as the relay sends it (no profile picture unless given). */
export function wireUser(user: {
  id: number
  username: string
  firstName: string
  lastName: string
  createdAt: number
  avatarImageId?: string | null
}): PublicUser {
  return { avatarImageId: null, ...user }
}
