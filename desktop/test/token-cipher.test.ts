import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accountFile } from '../src/core/accounts'
import type { Logger } from '../src/core/logger'
import type { TokenCipher } from '../src/core/service'
import { type SafeStorageLike, SEALED_PREFIX, safeStorageCipher } from '../src/main/token-cipher'
import { signUp, startCore, type TestCore, waitOnline } from './helpers/core'
import { startRelay, type TestRelay } from './helpers/relay'
import { rawStore } from './helpers/store'

let relay: TestRelay
const cores: TestCore[] = []
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const core of cores) await core.dispose()
  await relay.close()
})

/** A stand-in for safeStorage: reversible, keyed, and refusing what it did not seal. */
function fakeCipher(key: string): TokenCipher & { sealed: number; opened: number } {
  const prefix = `sealed-by-${key}:`
  const cipher = {
    sealed: 0,
    opened: 0,
    encrypt: async (plain: string) => {
      cipher.sealed += 1
      return prefix + Buffer.from([...plain].reverse().join('')).toString('base64')
    },
    decrypt: (stored: string) => {
      if (!stored.startsWith(prefix)) throw new Error('not sealed with this key')
      cipher.opened += 1
      return [...Buffer.from(stored.slice(prefix.length), 'base64').toString()].reverse().join('')
    },
  }
  return cipher
}

async function storedToken(core: TestCore, userId: number, cipher?: TokenCipher): Promise<string | null> {
  const reader = await rawStore(core.dataDir, accountFile(core.dataDir, relay.url, userId), cipher)
  try {
    return reader.prepare('select token from account').pluck().get() as string | null
  } finally {
    reader.close()
  }
}

describe('session token cipher', () => {
  it('the token is stored sealed, and a restart opens it and carries on online', async () => {
    const cipher = fakeCipher('k1')
    const alice = await startCore(undefined, { tokenCipher: cipher })
    cores.push(alice)
    const a = await signUp(alice, relay.url)
    await waitOnline(alice)
    // The store's key and the token.
    expect(cipher.sealed).toBe(2)
    expect(readFileSync(path.join(alice.dataDir, 'store.key.sealed'), 'utf8')).toMatch(/^sealed-by-k1:/)
    expect(existsSync(path.join(alice.dataDir, 'store.key'))).toBe(false)
    const stored = await storedToken(alice, a.user.id, cipher)
    expect(stored).toMatch(/^sealed-by-k1:/)

    const opened = cipher.opened
    const restarted = await alice.restart()
    cores.push(restarted)
    expect(cipher.opened - opened).toBe(2)
    expect((await restarted.ok('auth.session', {}))?.user.id).toBe(a.user.id)
    // Online proves the opened token is the relay's real one, not the sealed text.
    await waitOnline(restarted)
    expect(await storedToken(restarted, a.user.id, cipher)).toBe(stored)
  })

  it('a keychain that cannot open the store key (reset) starts signed out, sets the store aside, and warns', async () => {
    const alice = await startCore(undefined, { tokenCipher: fakeCipher('k1') })
    cores.push(alice)
    const a = await signUp(alice, relay.url)
    await alice.stop()
    const warnings: string[] = []
    const logger: Logger = {
      info: () => undefined,
      warn: (message) => warnings.push(message),
      error: () => undefined,
    }
    const k2 = fakeCipher('k2')
    const other = await startCore(alice.dataDir, { tokenCipher: k2, logger })
    cores.push(other)
    expect(await other.ok('auth.session', {})).toBeNull()
    expect((await other.ok('connection.get', {})).state).toBe('offline')
    expect(warnings.some((w) => w.includes('cannot open the store key'))).toBe(true)
    expect(warnings.some((w) => w.includes('set aside'))).toBe(true)
    // Kept for a keychain that comes back, but out of the way.
    const accounts = readdirSync(path.join(alice.dataDir, 'accounts'))
    expect(accounts.some((f) => /\.sqlite\.unreadable-\d+$/.test(f))).toBe(true)
    expect(existsSync(accountFile(alice.dataDir, relay.url, a.user.id))).toBe(false)
    // Signing in again makes a new store, under a key and a token this keychain opens.
    await other.ok('auth.login', {
      relayUrl: relay.url,
      username: a.user.username,
      password: 'correct horse battery',
    })
    expect(await storedToken(other, a.user.id, k2)).toMatch(/^sealed-by-k2:/)
    await waitOnline(other)
  })

  it('what the keychain asks to reseal (shouldReEncrypt) is resealed at start: the token and the store key', async () => {
    let version = 1
    const storage: SafeStorageLike = {
      isAsyncEncryptionAvailable: async () => true,
      encryptStringAsync: async (plain) => Buffer.from(`v${version}(${plain})`),
      decryptStringAsync: async (sealed) => {
        const match = /^v(\d+)\((.*)\)$/s.exec(sealed.toString())
        if (!match) throw new Error('Error while decrypting the ciphertext')
        return { result: match[2]!, shouldReEncrypt: Number(match[1]) < version }
      },
    }
    const opened = (stored: string | null) =>
      stored && Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64').toString().slice(0, 3)
    const alice = await startCore(undefined, { tokenCipher: safeStorageCipher(storage) })
    cores.push(alice)
    const a = await signUp(alice, relay.url)
    const cipher = safeStorageCipher(storage)
    expect(opened(await storedToken(alice, a.user.id, cipher))).toBe('v1(')
    const sealedKey = () => readFileSync(path.join(alice.dataDir, 'store.key.sealed'), 'utf8')
    expect(opened(sealedKey())).toBe('v1(')

    version = 2
    const restarted = await alice.restart()
    cores.push(restarted)
    await waitOnline(restarted)
    // The key first: reading the store below opens (and would reseal) the key itself.
    expect(opened(sealedKey())).toBe('v2(')
    expect(opened(await storedToken(restarted, a.user.id, cipher))).toBe('v2(')
  })

  it('without a cipher the token is stored as the relay gave it (browser mode)', async () => {
    const alice = await startCore()
    cores.push(alice)
    const a = await signUp(alice, relay.url)
    const stored = await storedToken(alice, a.user.id)
    expect(stored).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(stored).not.toMatch(/^sealed/)
  })
})
