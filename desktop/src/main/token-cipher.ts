import type { KeychainStatus, TokenCipher } from '../core/service'

/** The parts of Electron's safeStorage the cipher uses (the async API: the sync one is deprecated). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>
  encryptStringAsync(plainText: string): Promise<Buffer>
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt?: boolean }>
  /** Linux only: which secret store backs safeStorage (`basic_text` is a constant key). */
  getSelectedStorageBackend?(): string
}

/** Marks a token sealed by the OS keychain; relay tokens are base64url, so they never start with it. */
export const SEALED_PREFIX = 'safe1:'

/**
 * The session token (and the local store's key, see core/store-key.ts) sealed with the OS keychain
 * (macOS Keychain, Windows DPAPI, libsecret or KWallet on Linux) before the core stores it. Where
 * the keychain is unavailable (a bare Linux session) the token is stored as browser mode stores it,
 * in a file only this user reads, and the log and the settings say so: refusing would lock the user
 * out of their own messages. On Linux's `basic_text` fallback (no keyring: Chromium seals with a
 * constant key) the status is `weak`, which the app shows the same way. A sealed token that cannot
 * be opened (keychain reset) throws, and the core then starts signed out.
 */
export function safeStorageCipher(
  safeStorage: SafeStorageLike,
  onUnavailable: () => void = () => undefined,
  platform: NodeJS.Platform = process.platform,
): TokenCipher {
  let available: Promise<boolean> | undefined
  const isAvailable = () => {
    available ??= safeStorage.isAsyncEncryptionAvailable().catch(() => false)
    return available
  }
  /** What the keychain asked to reseal when it opened them (shouldReEncrypt). */
  const stale = new Set<string>()
  return {
    async encrypt(plain) {
      if (!(await isAvailable())) {
        onUnavailable()
        return plain
      }
      const sealed = await safeStorage.encryptStringAsync(plain)
      return SEALED_PREFIX + sealed.toString('base64')
    },
    async decrypt(stored) {
      // Stored unsealed while the keychain was unavailable: readable as it is.
      if (!stored.startsWith(SEALED_PREFIX)) return stored
      const { result, shouldReEncrypt } = await safeStorage.decryptStringAsync(
        Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64'),
      )
      if (shouldReEncrypt) stale.add(stored)
      return result
    },
    async needsReseal(stored) {
      if (!stored.startsWith(SEALED_PREFIX)) return await isAvailable()
      return stale.has(stored)
    },
    async status(): Promise<KeychainStatus> {
      if (!(await isAvailable())) return 'unavailable'
      if (platform === 'linux' && safeStorage.getSelectedStorageBackend?.() === 'basic_text') return 'weak'
      return 'keychain'
    },
  }
}
