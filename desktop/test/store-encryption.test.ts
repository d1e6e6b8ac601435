import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import PlainSQLite from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerContacts } from '../../relay-server/test/helpers/client'
import { accountFile, writeCurrentAccount } from '../src/core/accounts'
import { applyEvents } from '../src/core/db/apply'
import { isPlainStore, LocalDb, StoreKeyError } from '../src/core/db/local-db'
import { saveAccount } from '../src/core/db/tables/account'
import { silentLogger } from '../src/core/logger'
import { KEY_FILE, loadStoreKey } from '../src/core/store-key'
import { signUp, startCore, type TestCore, waitFor, waitOnline } from './helpers/core'
import { startRelay, type TestRelay } from './helpers/relay'
import { feed, message, rawStore, tempFile, wireUser } from './helpers/store'

let relay: TestRelay
const cores: TestCore[] = []
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const core of cores) await core.dispose()
  await relay.close()
})

function header(file: string): Buffer {
  const bytes = Buffer.alloc(16)
  const fd = openSync(file, 'r')
  readSync(fd, bytes, 0, 16, 0)
  closeSync(fd)
  return bytes
}

/** What an attacker with the file but not the key gets: SQLite's "file is not a database". */
function readPlain(file: string): unknown {
  const plain = new PlainSQLite(file, { readonly: true })
  try {
    return plain.prepare('select count(*) as n from account').get()
  } finally {
    plain.close()
  }
}

describe('the local store encrypted at rest', () => {
  it('browser mode: the store is SQLCipher-encrypted with a random key in a 0600 file', async () => {
    const alice = await startCore()
    cores.push(alice)
    const a = await signUp(alice, relay.url)
    await waitOnline(alice)
    const file = accountFile(alice.dataDir, relay.url, a.user.id)
    expect(header(file).toString('latin1')).not.toBe('SQLite format 3\0')
    expect(isPlainStore(file)).toBe(false)
    expect(() => readPlain(file)).toThrow(/not a database/)
    // Not in the write-ahead log either: its pages are encrypted too.
    if (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0) {
      expect(readFileSync(`${file}-wal`).includes(Buffer.from(a.user.username))).toBe(false)
    }
    const keyFile = path.join(alice.dataDir, KEY_FILE)
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    // The key opens it.
    const reader = await rawStore(alice.dataDir, file)
    expect(reader.prepare('select username from account').pluck().get()).toBe(a.user.username)
    reader.close()
  })

  it('a key file left readable by others is made private at start', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-key-'))
    const first = await loadStoreKey(dataDir, undefined, silentLogger)
    const keyFile = path.join(dataDir, KEY_FILE)
    const { chmodSync } = await import('node:fs')
    chmodSync(keyFile, 0o644)
    const again = await loadStoreKey(dataDir, undefined, silentLogger)
    expect(again.key.equals(first.key)).toBe(true)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
  })

  it('a wrong key is refused with StoreKeyError, before anything is written', async () => {
    const file = tempFile()
    const key = Buffer.alloc(32, 1)
    const db = await LocalDb.open(file, { key })
    await db.close()
    const before = readFileSync(file)
    const error = await LocalDb.open(file, { key: Buffer.alloc(32, 2) }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreKeyError)
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('a plain store left by an earlier version is encrypted at first start; its history, session and search carry on', async () => {
    const [alice, bob] = await registerContacts(relay.url)
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-plain-'))
    const file = accountFile(dataDir, relay.url, alice.user.id)
    // As the earlier version wrote it: LocalDb without a key, the account and its token, a synced
    // message in the search index, and the pointer to the account to reopen.
    const old = await LocalDb.open(file)
    saveAccount(old, {
      user: { ...alice.user, email: `${alice.user.username}@example.com` },
      relayUrl: relay.url,
      token: alice.token,
      expiresAt: alice.expiresAt,
    })
    const bobUser = wireUser({ ...bob.user })
    applyEvents(
      old,
      alice.user.id,
      feed(1, [
        {
          type: 'message',
          data: message({
            id: 9_000_001,
            senderId: bob.user.id,
            recipientId: alice.user.id,
            text: 'the zanzibar quokka migrated intact',
          }),
        },
      ]),
      0,
    )
    expect(bobUser.id).toBe(bob.user.id)
    await old.close()
    writeCurrentAccount(dataDir, { file, relayUrl: relay.url })
    // Readable by the earlier version's driver: a real plain file.
    expect(readPlain(file)).toEqual({ n: 1 })

    const core = await startCore(dataDir)
    cores.push(core)
    expect(isPlainStore(file)).toBe(false)
    expect(() => readPlain(file)).toThrow(/not a database/)
    expect((await core.ok('auth.session', {}))?.user.id).toBe(alice.user.id)
    await waitOnline(core)
    const hits = await core.ok('search.query', { q: 'zanzi quok' })
    expect(hits.map((h) => h.message.text)).toEqual(['the zanzibar quokka migrated intact'])
    // Nothing plain is left behind beside it.
    expect(existsSync(`${file}-journal`)).toBe(false)
    // And it stays encrypted across a restart, with the same key.
    const restarted = await core.restart()
    cores.push(restarted)
    await waitFor(async () => (await restarted.ok('auth.session', {}))?.user.id === alice.user.id)
    expect((await restarted.ok('search.query', { q: 'quokka' })).length).toBe(1)
  })
})
