import { renameSync, rmSync } from 'node:fs'
import type { AuthResponse, ProfileView, SessionView } from '@parley/shared'
import { Account } from './account'
import { accountFile, readCurrentAccount, writeCurrentAccount } from './accounts'
import { LocalDb, StoreKeyError } from './db/local-db'
import { accountRow, saveAccount } from './db/tables/account'
import type { Logger, Timing } from './logger'
import { RelayClient } from './net/relay-client'
import type { Emit, TokenCipher } from './options'
import { refuse } from './refusal'
import type { StoreKey } from './store-key'

export interface SessionDeps {
  dataDir: string
  clock: () => number
  logger: Logger
  timing: Timing
  fetch: typeof fetch | undefined
  mediaCacheBytes: number | undefined
  tokenCipher: TokenCipher | undefined
  /** The key of this data folder's stores (loaded once, on first use; see store-key.ts). */
  storeKey: () => Promise<StoreKey>
  emit: Emit
  /** A signed-in account starts: its events are wired to the bridge's (see account-events.ts). */
  adopted: (account: Account) => void
}

/**
 * The signed-in account, if any: signing in (the token sealed before it is stored), reopening the
 * last account at start, signing out, and the relay refusing the token (expiry).
 */
export class Session {
  readonly #deps: SessionDeps
  #account: Account | null = null
  /** The account being signed out, whose end of session on the relay is expected. */
  #signingOut: Account | null = null

  constructor(deps: SessionDeps) {
    this.#deps = deps
  }

  get account(): Account | null {
    return this.#account
  }

  /** The account, or a `not_signed_in` refusal. */
  signedIn(): Account {
    return this.#account ?? refuse('not_signed_in', 'Sign in first')
  }

  /** Reopens the account signed in last, which starts syncing at once (StoreTooNewError if it is newer). */
  async reopen(): Promise<void> {
    const file = readCurrentAccount(this.#deps.dataDir)
    if (!file) return
    const db = await this.#openStore(file)
    if (!db) return
    const token = await this.#storedToken(db)
    if (token) await this.#adopt(db, token)
    else await db.close()
  }

  /** A REST client for a relay before any account is signed in (register, login). */
  client(relayUrl: string): RelayClient {
    return new RelayClient(relayUrl, {
      timeoutMs: this.#deps.timing.restTimeoutMs,
      ...(this.#deps.fetch && { fetch: this.#deps.fetch }),
    })
  }

  async signIn(relayUrl: string, auth: AuthResponse): Promise<{ account: Account; session: SessionView }> {
    const { dataDir, tokenCipher } = this.#deps
    const file = accountFile(dataDir, relayUrl, auth.user.id)
    let db: LocalDb
    let storedToken: string
    try {
      storedToken = tokenCipher ? await tokenCipher.encrypt(auth.token) : auth.token
      db = (await this.#openStore(file)) ?? (await this.#openStore(file, 'again'))!
    } catch (error) {
      // Do not leave a live session behind that nothing on this device will use.
      await new RelayClient(relayUrl, { token: auth.token }).call('logout').catch(() => undefined)
      throw error
    }
    saveAccount(db, { user: ownProfile(auth.user), relayUrl, token: storedToken, expiresAt: auth.expiresAt })
    const account = await this.#adopt(db, auth.token)
    writeCurrentAccount(dataDir, { file, relayUrl })
    const session = account.session!
    this.#deps.emit('session.changed', { session, reason: 'signed_in' })
    return { account, session }
  }

  async signOut(): Promise<void> {
    const account = this.signedIn()
    // The relay ends this session's socket as it answers (session_ended): that expiry is this
    // sign-out's own doing, and closing the store is left to the sign-out below.
    this.#signingOut = account
    // Best effort: offline, the token is only forgotten here and expires on the relay by itself.
    const result = await account.logout()
    if (!result.ok && result.error.code !== 'unauthorized') {
      this.#deps.logger.warn('sign-out could not reach the relay', { code: result.error.code })
    }
    this.#account = null
    await account.signOut()
    writeCurrentAccount(this.#deps.dataDir, null)
    this.#deps.emit('session.changed', { session: null, reason: 'signed_out' })
  }

  /**
   * The account was deleted on the relay: forget it here without asking the relay (its session is
   * gone with it) and remove its store and pictures from this device. `account` is the one that
   * was signed in when the deletion was asked (the relay may have ended its session meanwhile).
   */
  async removeAccount(account: Account): Promise<void> {
    const { file } = account.db
    const media = account.mediaDir
    const downloads = account.downloads.dir
    if (this.#account === account) this.#account = null
    try {
      await account.close()
    } catch {
      // Closed already (the relay ended the session first).
    }
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true })
    rmSync(media, { recursive: true, force: true })
    rmSync(downloads, { recursive: true, force: true })
    writeCurrentAccount(this.#deps.dataDir, null)
    this.#deps.emit('session.changed', { session: null, reason: 'signed_out' })
  }

  async close(): Promise<void> {
    await this.#account?.close()
    this.#account = null
  }

  /** The saved session's token in plain text; null when signed out or when it cannot be opened. */
  async #storedToken(db: LocalDb): Promise<string | null> {
    const stored = accountRow(db)?.token
    const cipher = this.#deps.tokenCipher
    if (!stored || !cipher) return stored ?? null
    try {
      const token = await cipher.decrypt(stored)
      if (await cipher.needsReseal?.(stored)) {
        // The keychain asked for it, or it answers now where it did not when the token was saved.
        db.prepare('update account set token = ? where id = 1').run(await cipher.encrypt(token))
      }
      return token
    } catch (error) {
      // The keychain's key changed, or the token was written without this cipher. The row is
      // kept (a later start may open it again); meanwhile the user signs in anew.
      this.#deps.logger.warn('the saved session could not be decrypted; sign in again', {
        error: error instanceof Error ? error.message : String(error),
      })
      return null
    }
  }

  /**
   * One account's store, opened with this data folder's key (a plain store from an older version is
   * encrypted on the way). A store the key cannot open (the keychain lost the key) is set aside,
   * with its -wal and -shm, and null returned: it is a cache, and a sign-in fills a new one from
   * the relay. `again` opens the new one (it cannot be refused: it does not exist).
   */
  async #openStore(file: string, again?: 'again'): Promise<LocalDb | null> {
    const { key } = await this.#deps.storeKey()
    try {
      return await LocalDb.open(file, { key })
    } catch (error) {
      if (!(error instanceof StoreKeyError) || again) throw error
      const aside = `${file}.unreadable-${this.#deps.clock()}`
      for (const suffix of ['', '-wal', '-shm']) {
        try {
          renameSync(file + suffix, aside + suffix)
        } catch {
          // No such companion file.
        }
      }
      this.#deps.logger.warn("this account's store cannot be opened with the store key; it was set aside", {
        file: aside,
      })
      return null
    }
  }

  async #adopt(db: LocalDb, token: string): Promise<Account> {
    const { clock, logger, timing, fetch, mediaCacheBytes } = this.#deps
    const account = await Account.open(
      db,
      {
        clock,
        logger,
        timing,
        ...(fetch && { fetch }),
        ...(mediaCacheBytes !== undefined && { mediaCacheBytes }),
      },
      token,
    )
    account.on('expired', () => void this.#expired(account))
    this.#deps.adopted(account)
    this.#account = account
    account.start()
    return account
  }

  async #expired(account: Account): Promise<void> {
    if (this.#account !== account || this.#signingOut === account) return
    this.#account = null
    await account.close()
    writeCurrentAccount(this.#deps.dataDir, null)
    this.#deps.emit('session.changed', { session: null, reason: 'expired' })
  }
}

/** The own profile from the relay's user: picked field by field, as it may carry more than this build shows. */
export function ownProfile(user: {
  id: number
  username: string
  firstName: string
  lastName: string
  email: string
  avatarImageId?: string | null
  createdAt: number
}): ProfileView {
  return {
    id: user.id,
    username: user.username,
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    avatarImageId: user.avatarImageId ?? null,
    createdAt: user.createdAt,
  }
}
