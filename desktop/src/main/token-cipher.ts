import type { TokenCipher } from '../core/service'

/** The parts of Electron's safeStorage the cipher uses (the async API: the sync one is deprecated). */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>
  encryptStringAsync(plainText: string): Promise<Buffer>
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string }>
}

/** Marks a token sealed by the OS keychain; relay tokens are base64url, so they never start with it. */
export const SEALED_PREFIX = 'safe1:'

/**
 * The session token sealed with the OS keychain (macOS Keychain, Windows DPAPI, libsecret or
 * KWallet on Linux) before the core stores it. Where the keychain is unavailable (a bare Linux
 * session) the token is stored as browser mode stores it, and the log says so: refusing would lock
 * the user out of their own messages. A sealed token that cannot be opened (keychain reset) throws,
 * and the core then starts signed out.
 */
export function safeStorageCipher(
  safeStorage: SafeStorageLike,
  onUnavailable: () => void = () => undefined,
): TokenCipher {
  let available: Promise<boolean> | undefined
  const isAvailable = () => {
    available ??= safeStorage.isAsyncEncryptionAvailable().catch(() => false)
    return available
  }
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
      const { result } = await safeStorage.decryptStringAsync(
        Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64'),
      )
      return result
    },
  }
}
