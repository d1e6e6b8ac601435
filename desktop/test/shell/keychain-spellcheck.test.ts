import { describe, expect, it } from 'vitest'
import {
  applySpellcheck,
  NO_DICTIONARY_DOWNLOAD_URL,
  type SpellcheckSession,
} from '../../src/main/spellcheck'
import { type SafeStorageLike, SEALED_PREFIX, safeStorageCipher } from '../../src/main/token-cipher'

/** safeStorage with key versions: what an older key sealed opens, with shouldReEncrypt (as Electron). */
function versionedSafeStorage(
  options: { available?: boolean; backend?: string } = {},
): SafeStorageLike & { version: number } {
  const storage: SafeStorageLike & { version: number } = {
    version: 1,
    isAsyncEncryptionAvailable: async () => options.available ?? true,
    getSelectedStorageBackend: () => options.backend ?? 'gnome_libsecret',
    encryptStringAsync: async (plain: string) => Buffer.from(`v${storage.version}(${plain})`),
    decryptStringAsync: async (sealed: Buffer) => {
      const match = /^v(\d+)\((.*)\)$/s.exec(sealed.toString())
      if (!match) throw new Error('Error while decrypting the ciphertext')
      return { result: match[2]!, shouldReEncrypt: Number(match[1]) < storage.version }
    },
  }
  return storage
}

describe('the keychain cipher (safeStorage)', () => {
  it('says how well it seals: keychain, weak (Linux basic_text) or unavailable', async () => {
    expect(await safeStorageCipher(versionedSafeStorage(), undefined, 'linux').status?.()).toBe('keychain')
    expect(
      await safeStorageCipher(versionedSafeStorage({ backend: 'basic_text' }), undefined, 'linux').status?.(),
    ).toBe('weak')
    // The backend name means something on Linux only.
    expect(
      await safeStorageCipher(
        versionedSafeStorage({ backend: 'basic_text' }),
        undefined,
        'darwin',
      ).status?.(),
    ).toBe('keychain')
    expect(
      await safeStorageCipher(versionedSafeStorage({ available: false }), undefined, 'linux').status?.(),
    ).toBe('unavailable')
  })

  it('honours shouldReEncrypt: what the keychain asks to reseal is resealed with its current key', async () => {
    const storage = versionedSafeStorage()
    const cipher = safeStorageCipher(storage, undefined, 'linux')
    const old = await cipher.encrypt('tok_123')
    expect(await cipher.decrypt(old)).toBe('tok_123')
    expect(await cipher.needsReseal?.(old)).toBe(false)

    storage.version = 2
    expect(await cipher.decrypt(old)).toBe('tok_123')
    expect(await cipher.needsReseal?.(old)).toBe(true)
    const resealed = await cipher.encrypt('tok_123')
    expect(Buffer.from(resealed.slice(SEALED_PREFIX.length), 'base64').toString()).toBe('v2(tok_123)')
    expect(await cipher.decrypt(resealed)).toBe('tok_123')
    expect(await cipher.needsReseal?.(resealed)).toBe(false)
  })

  it('a token kept unsealed (no keychain then) is sealed once the keychain answers', async () => {
    const cipher = safeStorageCipher(versionedSafeStorage(), undefined, 'linux')
    expect(await cipher.decrypt('tok_plain')).toBe('tok_plain')
    expect(await cipher.needsReseal?.('tok_plain')).toBe(true)
    const without = safeStorageCipher(versionedSafeStorage({ available: false }), undefined, 'linux')
    expect(await without.needsReseal?.('tok_plain')).toBe(false)
  })
})

describe('the spellchecker', () => {
  function fakeSession() {
    const calls: string[] = []
    const session: SpellcheckSession = {
      setSpellCheckerEnabled: (on) => calls.push(`enabled ${on}`),
      setSpellCheckerDictionaryDownloadURL: (url) => calls.push(`url ${url}`),
    }
    return { session, calls }
  }

  it('by default never downloads a dictionary (a closed port on this computer, not Google)', () => {
    const { session, calls } = fakeSession()
    applySpellcheck(session)
    expect(calls).toEqual(['enabled true', `url ${NO_DICTIONARY_DOWNLOAD_URL}`])
    expect(new URL(NO_DICTIONARY_DOWNLOAD_URL).hostname).toBe('127.0.0.1')
  })

  it('downloads from a mirror the user names, over https only', () => {
    const mirror = fakeSession()
    applySpellcheck(mirror.session, { dictionaryUrl: 'https://dictionaries.example.org/hunspell/' })
    expect(mirror.calls).toContain('url https://dictionaries.example.org/hunspell/')
    const plain = fakeSession()
    applySpellcheck(plain.session, { dictionaryUrl: 'http://dictionaries.example.org/' })
    expect(plain.calls).toContain(`url ${NO_DICTIONARY_DOWNLOAD_URL}`)
  })
})
