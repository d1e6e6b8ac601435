import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from './logger'
import type { KeychainStatus, TokenCipher } from './options'

/** The store key in a file only this user may read (browser mode, or no OS keychain). */
export const KEY_FILE = 'store.key'
/** The store key sealed by the OS keychain (Electron's safeStorage). */
export const SEALED_KEY_FILE = 'store.key.sealed'

const HEX_KEY = /^[0-9a-f]{64}$/

/** How this device keeps the key to its local stores. */
export type StoreKeyPlace = 'keychain' | 'file'

export interface StoreKey {
  key: Buffer
  place: StoreKeyPlace
}

/**
 * The 256-bit key of every local store in `dataDir` (see LocalDb.open), made of random bytes on
 * first use. With a cipher whose keychain is really there (`status()` is `keychain`), the key is
 * kept sealed by it in store.key.sealed; otherwise (browser mode, no keychain, Linux's
 * `basic_text` fallback whose key is a constant) in store.key, created 0600 in the 0700 data
 * folder. A key in the file moves under the keychain once one answers; a sealed key the keychain
 * asks to reseal (`shouldReEncrypt`) is sealed anew.
 *
 * A sealed key that the keychain can no longer open (it was reset) cannot be recovered: a new key
 * is made, and the stores it cannot open are set aside (the relay still has their messages).
 */
export async function loadStoreKey(
  dataDir: string,
  cipher: TokenCipher | undefined,
  logger: Logger,
): Promise<StoreKey> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const sealedFile = path.join(dataDir, SEALED_KEY_FILE)
  const keyFile = path.join(dataDir, KEY_FILE)
  const useKeychain = cipher !== undefined && (await keychainStatus(cipher)) === 'keychain'

  if (cipher && existsSync(sealedFile)) {
    const stored = readFileSync(sealedFile, 'utf8').trim()
    try {
      const hex = await cipher.decrypt(stored)
      if (!HEX_KEY.test(hex)) throw new Error('the sealed store key is not a key')
      if (await cipher.needsReseal?.(stored)) {
        writePrivate(sealedFile, await cipher.encrypt(hex))
        logger.info('the store key was sealed anew, as the keychain asked')
      }
      return { key: Buffer.from(hex, 'hex'), place: 'keychain' }
    } catch (error) {
      logger.warn('the OS keychain cannot open the store key; a new key is made', {
        error: error instanceof Error ? error.message : String(error),
      })
      renameSync(sealedFile, `${sealedFile}.unreadable-${Date.now()}`)
    }
  }

  if (existsSync(keyFile)) {
    // A file an older build or a copy left readable by others is made private again.
    chmodSync(keyFile, 0o600)
    const hex = readFileSync(keyFile, 'utf8').trim()
    if (!HEX_KEY.test(hex)) throw new Error(`${keyFile} does not hold a store key (64 hex digits)`)
    if (useKeychain && cipher) {
      writePrivate(sealedFile, await cipher.encrypt(hex))
      rmSync(keyFile)
      return { key: Buffer.from(hex, 'hex'), place: 'keychain' }
    }
    return { key: Buffer.from(hex, 'hex'), place: 'file' }
  }

  const key = randomBytes(32)
  if (useKeychain && cipher) {
    writePrivate(sealedFile, await cipher.encrypt(key.toString('hex')))
    return { key, place: 'keychain' }
  }
  writePrivate(keyFile, `${key.toString('hex')}\n`)
  return { key, place: 'file' }
}

/** What a cipher says of its keychain; one without `status` is taken at its word. */
export async function keychainStatus(cipher: TokenCipher): Promise<KeychainStatus> {
  return (await cipher.status?.()) ?? 'keychain'
}

/** Written aside (0600) and renamed, so a crash never leaves half a key. */
function writePrivate(file: string, content: string): void {
  const temporary = `${file}.tmp`
  writeFileSync(temporary, content, { mode: 0o600 })
  chmodSync(temporary, 0o600)
  renameSync(temporary, file)
}
