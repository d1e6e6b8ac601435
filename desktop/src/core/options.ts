import type { AppInfo, BridgeEvent, BridgeEventPayload } from '@parley/shared'
import type { Logger, Timing } from './logger'

export interface CoreOptions {
  /** Where this device keeps its accounts (one SQLite file each) and which one was signed in last. */
  dataDir: string
  clock?: () => number
  logger?: Logger
  timing?: Partial<Timing>
  fetch?: typeof fetch
  /** Each account's media cache cap, in bytes (default 512 MiB). */
  mediaCacheBytes?: number
  /** Which app hosts this core (`app.info`); the browser-mode host by default. */
  shell?: AppInfo['shell']
  /** The app's version for `app.info` (default: this package's). */
  version?: string
  /**
   * Seals the session token before it is written to the account's database, and opens it when
   * read (Electron: the OS keychain through safeStorage). Without one the token is stored as is.
   */
  tokenCipher?: TokenCipher
  /**
   * Asks where to save a file and copies it there (Electron: the system's save dialog, see
   * main/ipc/save-file.ts). Without one, `messages.saveFileAs` is `unsupported` and the window
   * reads the file in pieces and saves it itself (browser mode).
   */
  saveAs?: SaveAs
}

/**
 * Shows a save dialog with `suggestedName` and copies the file at `source` to the path chosen:
 * that path, or null when the person cancelled. Rejects when the copy fails (nothing is left at
 * the path chosen then).
 */
export type SaveAs = (file: { source: string; suggestedName: string }) => Promise<string | null>

export interface TokenCipher {
  encrypt(plain: string): string | Promise<string>
  /** Throws when `stored` cannot be opened (another key, or not sealed by this cipher). */
  decrypt(stored: string): string | Promise<string>
  /**
   * Whether `stored` (decrypted before) should be sealed anew: the keychain asked for it
   * (safeStorage's `shouldReEncrypt`), or it was kept unsealed while the keychain was unavailable
   * and the keychain now answers.
   */
  needsReseal?(stored: string): boolean | Promise<boolean>
  /**
   * How well this cipher seals: `keychain` (the OS keychain), `weak` (a keychain fallback whose key
   * is a constant: Linux's `basic_text`), `unavailable` (nothing is sealed). Absent: `keychain`.
   */
  status?(): KeychainStatus | Promise<KeychainStatus>
}

export type KeychainStatus = 'keychain' | 'weak' | 'unavailable'

/** Tells every window something (the service's event emitter, typed by the bridge's event map). */
export type Emit = <E extends BridgeEvent>(event: E, payload: BridgeEventPayload<E>) => void
