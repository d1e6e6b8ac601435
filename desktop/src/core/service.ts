import { createHash, randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import {
  type AppInfo,
  type AuthResponse,
  type BridgeError,
  type BridgeEvent,
  type BridgeEventPayload,
  type BridgeMethod,
  type BridgeParams,
  type BridgeResult,
  type BridgeValue,
  bridgeMethods,
  type ConnectionInfo,
  defaultSettings,
  isBridgeErrorCode,
  isBridgeMethod,
  MAX_IMAGE_BYTES,
  type MessageView,
  type ProfileView,
  type Result,
  type SessionView,
  type UnreadCounts,
  type UserView,
  validate,
} from '@parley/shared'
import { canRetry } from '@parley/shared/sending'
import { sniffImage } from '@parley/shared/sniff'
import { Account } from './account'
import {
  accountFile,
  normalizeRelayUrl,
  readCurrentAccount,
  readLastRelayUrl,
  writeCurrentAccount,
} from './accounts'
import { lockDataDir } from './data-lock'
import type { ApplySummary } from './db/apply'
import {
  coalesceReceipt,
  discardFailed,
  insertPendingMessage,
  queueDelete,
  queueEdit,
  queueReaction,
  retryMessage,
} from './db/local-changes'
import { LocalDb, StoreTooNewError } from './db/local-db'
import type { MessageRow } from './db/schema'
import { searchMessages } from './db/search'
import { accountRow, clearToken, saveAccount, updateProfile } from './db/tables/account'
import { deleteContact as removeContact, upsertContact as saveContact } from './db/tables/contacts'
import { conversationMarkers, moveOwnReadMarker } from './db/tables/conversations'
import { draftOf, setDraft } from './db/tables/drafts'
import { cachedVersions, saveVersions } from './db/tables/message-versions'
import {
  lastReceivedRow,
  lastServerId,
  messageRow,
  messageRowByServerId,
  ownMessageByClientId,
  unreadIn,
} from './db/tables/messages'
import { saveSettings, settingsOf } from './db/tables/settings'
import { contactView, contactViews, userView } from './db/views/contacts'
import { conversationViews, unreadCounts } from './db/views/conversations'
import { messagePage, messageView, messageViews } from './db/views/messages'
import { profileOf } from './db/views/profile'
import { consoleLogger, defaultTiming, type Logger, type Timing } from './logger'
import { RelayClient } from './net/relay-client'
import { APP_VERSION } from './version'

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
}

export interface TokenCipher {
  encrypt(plain: string): string | Promise<string>
  /** Throws when `stored` cannot be opened (another key, or not sealed by this cipher). */
  decrypt(stored: string): string | Promise<string>
}

/** A refusal with a bridge error code, thrown inside the service and returned as a Result. */
class Refusal extends Error {
  constructor(readonly error: BridgeError) {
    super(error.message)
  }
}
const refuse = (code: BridgeError['code'], message: string): never => {
  throw new Refusal({ code, message })
}

type Handlers = {
  [M in BridgeMethod]: (params: BridgeParams<M>, caller: string) => Promise<BridgeValue<M>>
}

type PresenceChoice = BridgeParams<'presence.set'>['status']

/** The caller of transports with one window (Electron, tests): all calls come from it. */
export const ONLY_WINDOW = 'window'

/**
 * The bridge's implementation: every method of shared/src/bridge, over the local store, the sync
 * engine and the outbox. `invoke` is the boundary: it takes anything, checks it against the
 * method's schema, and always resolves to a Result. It never throws.
 */
export class CoreService {
  readonly #dataDir: string
  readonly #clock: () => number
  readonly #logger: Logger
  readonly #timing: Timing
  readonly #fetch: typeof fetch | undefined
  readonly #mediaCacheBytes: number | undefined
  readonly #events = new EventEmitter()
  readonly #typing = new Map<number, NodeJS.Timeout>()
  readonly #startedAt: number
  readonly #appInfo: Omit<AppInfo, 'lastRelayUrl'>
  readonly #tokenCipher: TokenCipher | undefined
  #viewing: number | null = null
  #account: Account | null = null
  /**
   * What each window last asked for (`presence.set`), by the caller its transport names: the
   * user is online while any window says so, away once every one that spoke says away.
   */
  readonly #presenceByWindow = new Map<string, PresenceChoice>()
  #presence: PresenceChoice = 'online'
  /** Unread counts per conversation, kept up to date one conversation at a time. */
  #unread = new Map<number, number>()
  #unreadStale: Set<number> | 'all' = 'all'
  #unreadTimer: NodeJS.Timeout | undefined
  #lastUnread = ''
  #closed = false
  #releaseLock: () => void = () => undefined

  private constructor(options: CoreOptions) {
    this.#dataDir = options.dataDir
    this.#clock = options.clock ?? Date.now
    this.#logger = options.logger ?? consoleLogger
    this.#timing = { ...defaultTiming, ...options.timing }
    this.#fetch = options.fetch
    this.#mediaCacheBytes = options.mediaCacheBytes
    this.#tokenCipher = options.tokenCipher
    this.#appInfo = {
      shell: options.shell ?? 'browser',
      version: options.version ?? APP_VERSION,
      platform: process.platform,
    }
    this.#startedAt = this.#clock()
  }

  /**
   * Starts the core and reopens the account signed in last, which starts syncing at once. Fails
   * with StoreTooNewError when that account's database was written by a newer Parley.
   */
  static async start(options: CoreOptions): Promise<CoreService> {
    const release = lockDataDir(options.dataDir)
    const service = new CoreService(options)
    service.#releaseLock = release
    try {
      const file = readCurrentAccount(options.dataDir)
      if (file) {
        const db = await LocalDb.open(file)
        const token = await service.#storedToken(db)
        if (token) await service.#adopt(db, token)
        else await db.close()
      }
    } catch (error) {
      release()
      throw error
    }
    return service
  }

  /**
   * The bridge boundary: an untrusted method name and params in, a Result out. `caller` names the
   * window the call comes from, for transports that serve several (browser mode's tabs).
   */
  async invoke(method: unknown, params: unknown, caller = ONLY_WINDOW): Promise<Result<unknown>> {
    if (!isBridgeMethod(method)) {
      return { ok: false, error: { code: 'unknown_method', message: `No bridge method ${String(method)}` } }
    }
    const checked = validate(bridgeMethods[method].params, params)
    if (!checked.ok) {
      return { ok: false, error: { code: 'invalid_params', message: `${method}: ${checked.message}` } }
    }
    try {
      const handler = this.#handlers[method] as (p: unknown, caller: string) => Promise<unknown>
      return { ok: true, value: await handler(checked.value, caller) }
    } catch (error) {
      if (error instanceof Refusal) return { ok: false, error: error.error }
      if (error instanceof StoreTooNewError)
        return { ok: false, error: { code: 'store_too_new', message: error.message } }
      this.#logger.error(`${method} failed`, { error: error instanceof Error ? error.stack : String(error) })
      return { ok: false, error: { code: 'internal', message: `${method} failed unexpectedly` } }
    }
  }

  /** `invoke` with the types of the method map, for callers in the same process (tests, the shell). */
  call<M extends BridgeMethod>(method: M, params: BridgeParams<M>): Promise<BridgeResult<M>> {
    return this.invoke(method, params) as Promise<BridgeResult<M>>
  }

  on<E extends BridgeEvent>(event: E, listener: (payload: BridgeEventPayload<E>) => void): () => void {
    this.#events.on(event, listener)
    return () => this.#events.off(event, listener)
  }

  /** Every event, for transports that forward them all (the browser host, Electron's webContents). */
  onAny(listener: <E extends BridgeEvent>(event: E, payload: BridgeEventPayload<E>) => void): () => void {
    this.#events.on('*', listener)
    return () => this.#events.off('*', listener)
  }

  /** A window went away (a tab closed or reloaded): its presence no longer counts. */
  windowClosed(caller: string): void {
    if (this.#presenceByWindow.delete(caller)) this.#applyPresence()
  }

  /** The conversation the window shows, as the renderer last said (`app.setViewing`). */
  get viewing(): number | null {
    return this.#viewing
  }

  /** The shell asks the renderer to show a conversation (a clicked notification, a parley:// link). */
  openConversation(peerId: number, localId?: number): void {
    this.#emit('app.openConversation', localId === undefined ? { peerId } : { peerId, localId })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const timer of this.#typing.values()) clearTimeout(timer)
    clearTimeout(this.#unreadTimer)
    await this.#account?.close()
    this.#account = null
    this.#releaseLock()
  }

  #emit<E extends BridgeEvent>(event: E, payload: BridgeEventPayload<E>): void {
    this.#events.emit(event, payload)
    this.#events.emit('*', event, payload)
  }

  // --- accounts -------------------------------------------------------------------------------

  #signedIn(): Account {
    return this.#account ?? refuse('not_signed_in', 'Sign in first')
  }

  /** The saved session's token in plain text; null when signed out or when it cannot be opened. */
  async #storedToken(db: LocalDb): Promise<string | null> {
    const stored = accountRow(db)?.token
    if (!stored || !this.#tokenCipher) return stored ?? null
    try {
      return await this.#tokenCipher.decrypt(stored)
    } catch (error) {
      // The keychain's key changed, or the token was written without this cipher. The row is
      // kept (a later start may open it again); meanwhile the user signs in anew.
      this.#logger.warn('the saved session could not be decrypted; sign in again', {
        error: error instanceof Error ? error.message : String(error),
      })
      return null
    }
  }

  async #adopt(db: LocalDb, token: string): Promise<Account> {
    const account = await Account.open(
      db,
      {
        clock: this.#clock,
        logger: this.#logger,
        timing: this.#timing,
        ...(this.#fetch && { fetch: this.#fetch }),
        ...(this.#mediaCacheBytes !== undefined && { mediaCacheBytes: this.#mediaCacheBytes }),
      },
      token,
    )
    account.on('uploadProgress', (localId, sentBytes, totalBytes) =>
      this.#emit('media.uploadProgress', { localId, sentBytes, totalBytes }),
    )
    account.on('state', (info) => this.#emit('connection.changed', info))
    account.on('applied', (summary) => this.#onApplied(account, summary))
    account.on('presence', (ids) => this.#onPresence(account, ids))
    account.on('typing', (event) => this.#onTyping(event.from, event.typing))
    account.on('outbox', (peerId, localId) => this.#emitMessages(account, peerId, [localId]))
    account.on('expired', () => void this.#onExpired(account))
    account.setPresence(this.#presence)
    this.#account = account
    this.#unreadStale = 'all'
    account.start()
    return account
  }

  async #signIn(relayUrl: string, auth: AuthResponse): Promise<SessionView> {
    const file = accountFile(this.#dataDir, relayUrl, auth.user.id)
    let db: LocalDb
    let storedToken: string
    try {
      storedToken = this.#tokenCipher ? await this.#tokenCipher.encrypt(auth.token) : auth.token
      db = await LocalDb.open(file)
    } catch (error) {
      // Do not leave a live session behind that nothing on this device will use.
      await new RelayClient(relayUrl, { token: auth.token }).call('logout').catch(() => undefined)
      throw error
    }
    const user = ownProfile(auth.user)
    saveAccount(db, { user, relayUrl, token: storedToken, expiresAt: auth.expiresAt })
    const account = await this.#adopt(db, auth.token)
    writeCurrentAccount(this.#dataDir, { file, relayUrl })
    const session = account.session!
    this.#emit('session.changed', { session, reason: 'signed_in' })
    this.#emitUnread(account, true)
    return session
  }

  async #onExpired(account: Account): Promise<void> {
    if (this.#account !== account) return
    this.#account = null
    await account.close()
    writeCurrentAccount(this.#dataDir, null)
    this.#emit('session.changed', { session: null, reason: 'expired' })
  }

  /** REST calls that need the relay: a network failure reads as `offline` to the renderer. */
  async #online<T>(call: Promise<Result<T>> | Result<T>): Promise<T> {
    const result = await call
    if (result.ok) return result.value
    if (result.error.code === 'network') refuse('offline', result.error.message)
    throw new Refusal(result.error)
  }

  // --- events from the account ----------------------------------------------------------------

  #onApplied(account: Account, summary: ApplySummary): void {
    for (const [peerId, localIds] of summary.messages) {
      if (localIds === null || summary.receipts.has(peerId)) {
        this.#emit('messages.changed', { peerId, messages: [], removedLocalIds: [], reload: true })
      } else {
        this.#emitMessages(account, peerId, [...localIds])
      }
    }
    for (const peerId of summary.receipts) {
      // A receipt changes the state of every message up to its marker: cheaper to reread the page.
      if (!summary.messages.has(peerId)) {
        this.#emit('messages.changed', { peerId, messages: [], removedLocalIds: [], reload: true })
      }
    }
    if (summary.contactsChanged) this.#emit('contacts.changed', { contacts: contactViews(account.db) })
    if (summary.profileChanged) {
      const row = accountRow(account.db)
      if (row) this.#emit('profile.changed', { user: profileOf(row) })
    }
    if (summary.messages.size > 0 || summary.receipts.size > 0) {
      this.#unreadChanged(account, [...summary.messages.keys(), ...summary.receipts])
    }
    for (const [peerId, count] of summary.arrived) {
      const row = lastReceivedRow(account.db, peerId)
      const message = row && messageViews(account.db, account.me, [row])[0]
      if (message && message.state !== 'read') {
        this.#emit('messages.received', { peerId, count, message, sender: userView(account.db, peerId) })
      }
    }
  }

  #emitMessages(account: Account, peerId: number, localIds: number[], removedLocalIds: number[] = []): void {
    const rows = localIds.flatMap((id) => {
      const row = messageRow(account.db, id)
      return row ? [row] : []
    })
    const gone = [...removedLocalIds, ...localIds.filter((id) => !rows.some((r) => r.local_id === id))]
    this.#emit('messages.changed', {
      peerId,
      messages: messageViews(account.db, account.me, rows),
      removedLocalIds: gone,
      reload: false,
    })
  }

  /** Brings the counts of the conversations that changed up to date and returns all of them. */
  #unreadCounts(account: Account): UnreadCounts {
    if (this.#unreadStale === 'all') {
      this.#unread = new Map(unreadCounts(account.db).conversations.map((c) => [c.peerId, c.count]))
    } else {
      for (const peerId of this.#unreadStale) {
        const count = unreadIn(account.db, peerId, conversationMarkers(account.db, peerId).own_read_up_to)
        if (count > 0) this.#unread.set(peerId, count)
        else this.#unread.delete(peerId)
      }
    }
    this.#unreadStale = new Set()
    const conversations = [...this.#unread]
      .sort(([a], [b]) => a - b)
      .map(([peerId, count]) => ({ peerId, count }))
    return { total: conversations.reduce((sum, c) => sum + c.count, 0), conversations }
  }

  /**
   * Marks conversations' counts stale and emits the new counts shortly after (a catch-up applies
   * many batches in a row; the badge needs the result, not every step).
   */
  #unreadChanged(account: Account, peerIds: Iterable<number> | 'all'): void {
    if (peerIds === 'all') this.#unreadStale = 'all'
    else if (this.#unreadStale !== 'all') for (const id of peerIds) this.#unreadStale.add(id)
    this.#unreadTimer ??= setTimeout(() => {
      this.#unreadTimer = undefined
      if (this.#account === account) this.#emitUnread(account)
    }, 50)
  }

  /** Emits the unread counts when they changed (the shell's badge listens to the total). */
  #emitUnread(account: Account, force = false): UnreadCounts {
    const counts = this.#unreadCounts(account)
    const key = JSON.stringify(counts)
    if (force || key !== this.#lastUnread) {
      this.#lastUnread = key
      this.#emit('unread.changed', counts)
    }
    return counts
  }

  #onPresence(account: Account, userIds: number[]): void {
    const contacts = contactViews(account.db)
    for (const userId of userIds) {
      const contact = contacts.find((c) => c.user.id === userId)
      this.#emit('presence.changed', { userId, presence: contact?.presence ?? null })
    }
  }

  /** The windows' wishes combined; with none left, the last presence stands. */
  #applyPresence(): void {
    if (this.#presenceByWindow.size > 0) {
      const anyOnline = [...this.#presenceByWindow.values()].includes('online')
      this.#presence = anyOnline ? 'online' : 'away'
    }
    this.#account?.setPresence(this.#presence)
  }

  #onTyping(userId: number, typing: boolean): void {
    clearTimeout(this.#typing.get(userId))
    this.#typing.delete(userId)
    if (typing) {
      // The relay does not promise a `false`; a silent peer stops "typing" by itself.
      this.#typing.set(
        userId,
        setTimeout(() => {
          this.#typing.delete(userId)
          this.#emit('typing.changed', { userId, typing: false })
        }, this.#timing.typingExpiryMs),
      )
    }
    this.#emit('typing.changed', { userId, typing })
  }

  // --- helpers for message methods ------------------------------------------------------------

  #ownMessage(account: Account, localId: number): MessageRow {
    const row = messageRow(account.db, localId) ?? refuse('not_found', `No message ${localId} on this device`)
    if (row.sender_id !== account.me) refuse('not_message_sender', 'Only the sender can change a message')
    return row
  }

  #view(account: Account, localId: number): MessageView {
    return (
      messageView(account.db, account.me, localId) ??
      refuse('not_found', `No message ${localId} on this device`)
    )
  }

  /**
   * The message a clientId already wrote (the caller did not hear back and asks again), or null.
   * The same clientId for another conversation is the caller's bug, not a second message.
   */
  #writtenBefore(account: Account, peerId: number, clientId: string | undefined): MessageView | null {
    if (clientId === undefined) return null
    const row = ownMessageByClientId(account.db, account.me, clientId)
    if (!row) return null
    if (row.peer_id !== peerId)
      refuse('client_id_conflict', 'That clientId was used for another conversation')
    return this.#view(account, row.local_id)
  }

  /** A message that never left this device is gone: its pinned picture goes, and the UI drops it. */
  #removedLocally(account: Account, row: MessageRow): null {
    this.#releaseLocalImage(account, row)
    this.#emit('messages.changed', {
      peerId: row.peer_id,
      messages: [],
      removedLocalIds: [row.local_id],
      reload: false,
    })
    return null
  }

  #releaseLocalImage(account: Account, row: MessageRow): void {
    if (row.image_local === 1 && row.image_id !== null) account.media.unpin(row.image_id)
  }

  #changed(account: Account, row: MessageRow): MessageView {
    account.kickOutbox()
    const view = this.#view(account, row.local_id)
    this.#emit('messages.changed', {
      peerId: row.peer_id,
      messages: [view],
      removedLocalIds: [],
      reload: false,
    })
    return view
  }

  // --- the methods ----------------------------------------------------------------------------

  readonly #handlers: Handlers = {
    'auth.register': async ({ relayUrl, ...body }) => {
      if (this.#account) refuse('already_signed_in', 'Sign out first')
      const url =
        normalizeRelayUrl(relayUrl) ?? refuse('invalid_params', 'relayUrl must be a plain http(s) address')
      const auth = await this.#online(this.#client(url).call('register', { body }))
      return this.#signIn(url, auth)
    },
    'auth.login': async ({ relayUrl, ...body }) => {
      if (this.#account) refuse('already_signed_in', 'Sign out first')
      const url =
        normalizeRelayUrl(relayUrl) ?? refuse('invalid_params', 'relayUrl must be a plain http(s) address')
      const answer = await this.#client(url).call('login', { body })
      // Someone with accounts on two relays needs to know which one said no.
      if (!answer.ok && answer.error.code === 'invalid_credentials') {
        refuse('invalid_credentials', `Wrong username or password for the relay at ${url}`)
      }
      const auth = await this.#online(answer)
      return this.#signIn(url, auth)
    },
    'auth.logout': async () => {
      const account = this.#signedIn()
      // Best effort: offline, the token is only forgotten here and expires on the relay by itself.
      const result = await account.relay.call('logout')
      if (!result.ok && result.error.code !== 'unauthorized') {
        this.#logger.warn('sign-out could not reach the relay', { code: result.error.code })
      }
      this.#account = null
      await account.stop()
      const row = accountRow(account.db)
      if (row?.token) clearToken(account.db)
      await account.close()
      writeCurrentAccount(this.#dataDir, null)
      this.#emit('session.changed', { session: null, reason: 'signed_out' })
      return null
    },
    'auth.session': async () => this.#account?.session ?? null,
    'profile.update': async (changes) => {
      const account = this.#signedIn()
      const result = await this.#online(
        account.relay.call('patchUser', { params: { id: account.me }, body: changes }),
      )
      const user = ownProfile(result.user)
      updateProfile(account.db, user)
      this.#emit('profile.changed', { user })
      return user
    },
    'profile.setAvatar': async ({ dataBase64 }) => {
      const account = this.#signedIn()
      const bytes = Buffer.from(dataBase64, 'base64')
      if (bytes.length === 0) refuse('invalid_params', 'profile.setAvatar: the picture is empty')
      if (bytes.length > MAX_IMAGE_BYTES) refuse('image_too_large', 'The file is larger than 10 MB')
      const mime =
        sniffImage(bytes).mime ??
        refuse('unsupported_image', 'The file is not a PNG, JPEG, GIF or WebP picture (judged by its bytes)')
      const { image } = await this.#online(account.relay.uploadImage(bytes, mime))
      const result = await this.#online(
        account.relay.call('patchUser', { params: { id: account.me }, body: { avatarImageId: image.id } }),
      )
      const user = ownProfile(result.user)
      updateProfile(account.db, user)
      this.#emit('profile.changed', { user })
      return user
    },
    'contacts.list': async () => contactViews(this.#signedIn().db),
    'contacts.add': async ({ username }) => {
      const account = this.#signedIn()
      const { contact } = await this.#online(account.relay.call('addContact', { body: { username } }))
      return this.#contactChanged(account, contact)
    },
    'contacts.accept': async ({ userId }) => this.#patchContact(userId, 'accepted'),
    'contacts.block': async ({ userId }) => this.#patchContact(userId, 'blocked'),
    'contacts.remove': async ({ userId }) => {
      const account = this.#signedIn()
      await this.#online(account.relay.call('removeContact', { params: { id: userId } }))
      removeContact(account.db, userId)
      this.#emit('contacts.changed', { contacts: contactViews(account.db) })
      return null
    },
    'users.search': async ({ q, limit }) => {
      const account = this.#signedIn()
      const { users } = await this.#online(account.relay.call('searchUsers', { query: { q, limit } }))
      return users.map(
        (u): UserView => ({
          id: u.id,
          username: u.username,
          firstName: u.firstName,
          lastName: u.lastName,
          avatarImageId: u.avatarImageId ?? null,
          createdAt: u.createdAt,
        }),
      )
    },
    'conversations.list': async () => {
      const account = this.#signedIn()
      return conversationViews(account.db, account.me)
    },
    'messages.page': async ({ peerId, before, after, limit }) => {
      const account = this.#signedIn()
      if (before !== undefined && after !== undefined)
        refuse('invalid_params', 'Give before or after, not both')
      return messagePage(account.db, account.me, peerId, { before, after }, limit ?? 50)
    },
    'messages.send': async ({ peerId, text, clientId }) => {
      const account = this.#signedIn()
      if (peerId === account.me) refuse('cannot_contact_self', 'You cannot message yourself')
      const written = this.#writtenBefore(account, peerId, clientId)
      if (written) return written
      const localId = insertPendingMessage(account.db, {
        me: account.me,
        peerId,
        text,
        clientId: clientId ?? randomUUID(),
        now: this.#clock(),
      })
      setDraft(account.db, peerId, '', this.#clock())
      return this.#changed(account, messageRow(account.db, localId)!)
    },
    'messages.sendImage': async ({ peerId, dataBase64, text, clientId }) => {
      const account = this.#signedIn()
      if (peerId === account.me) refuse('cannot_contact_self', 'You cannot message yourself')
      const written = this.#writtenBefore(account, peerId, clientId)
      if (written) return written
      const bytes = Buffer.from(dataBase64, 'base64')
      if (bytes.length === 0) refuse('invalid_params', 'messages.sendImage: the picture is empty')
      if (bytes.length > MAX_IMAGE_BYTES) refuse('image_too_large', 'The file is larger than 10 MB')
      const sniffed = sniffImage(bytes)
      // Refused here, before it is queued: the relay would refuse it for good, and a message that
      // can never be sent must not sit in the conversation offering a retry.
      const mime =
        sniffed.mime ??
        refuse('unsupported_image', 'The file is not a PNG, JPEG, GIF or WebP picture (judged by its bytes)')
      // Known by its content here until the relay gives it its own id: the bytes wait, pinned, in
      // the media cache, so the sender sees the picture at once, offline and across restarts.
      const localImageId = createHash('sha256').update(bytes).digest('hex')
      account.media.put(localImageId, 'full', { mime, bytes }, true)
      const localId = insertPendingMessage(account.db, {
        me: account.me,
        peerId,
        text: text ?? null,
        clientId: clientId ?? randomUUID(),
        now: this.#clock(),
        localImage: { id: localImageId, ...sniffed, mime, bytes: bytes.length },
      })
      if (text !== undefined) setDraft(account.db, peerId, '', this.#clock())
      return this.#changed(account, messageRow(account.db, localId)!)
    },
    'messages.edit': async ({ localId, text }) => {
      const account = this.#signedIn()
      const row = this.#ownMessage(account, localId)
      if (this.#view(account, localId).deletedAt !== null)
        refuse('message_deleted', 'A deleted message cannot be edited')
      queueEdit(account.db, row, text, this.#clock())
      return this.#changed(account, row)
    },
    'messages.delete': async ({ localId }) => {
      const account = this.#signedIn()
      const row = this.#ownMessage(account, localId)
      if (queueDelete(account.db, row, this.#clock()) === 'removed') return this.#removedLocally(account, row)
      return this.#changed(account, row)
    },
    'messages.react': async ({ localId, emoji }) => {
      const account = this.#signedIn()
      const row =
        messageRow(account.db, localId) ?? refuse('not_found', `No message ${localId} on this device`)
      if (this.#view(account, localId).deletedAt !== null)
        refuse('message_deleted', 'A deleted message takes no reactions')
      if (row.server_id === null) refuse('not_found', 'The message has not reached the relay yet')
      queueReaction(account.db, row, account.me, emoji, this.#clock())
      return this.#changed(account, row)
    },
    'messages.markRead': async ({ peerId, upTo }) => {
      const account = this.#signedIn()
      const target = upTo ?? lastServerId(account.db, peerId)
      if (upTo !== undefined && messageRowByServerId(account.db, upTo)?.peer_id !== peerId) {
        refuse('not_found', `Message ${upTo} is not in that conversation`)
      }
      if (target === 0) return this.#unreadCounts(account)
      const moved = account.db.transaction(() => {
        const changed = moveOwnReadMarker(account.db, peerId, target)
        if (changed) coalesceReceipt(account.db, 'read', peerId, target, this.#clock())
        return changed
      })
      if (!moved) return this.#unreadCounts(account)
      account.kickOutbox()
      this.#emit('messages.changed', { peerId, messages: [], removedLocalIds: [], reload: true })
      if (this.#unreadStale !== 'all') this.#unreadStale.add(peerId)
      return this.#emitUnread(account)
    },
    'messages.retry': async ({ localId }) => {
      const account = this.#signedIn()
      const row =
        messageRow(account.db, localId) ?? refuse('not_found', `No message ${localId} on this device`)
      if (isBridgeErrorCode(row.failure_code) && !canRetry(row.failure_code))
        refuse('not_retryable', `Sending it again cannot work: ${row.failure_message ?? row.failure_code}`)
      if (!retryMessage(account.db, localId)) refuse('not_retryable', 'Nothing about this message failed')
      return this.#changed(account, row)
    },
    'messages.discard': async ({ localId }) => {
      const account = this.#signedIn()
      const row =
        messageRow(account.db, localId) ?? refuse('not_found', `No message ${localId} on this device`)
      const outcome = discardFailed(account.db, localId)
      if (outcome === 'nothing') refuse('not_retryable', 'Nothing about this message failed')
      if (outcome === 'removed') return this.#removedLocally(account, row)
      return this.#changed(account, row)
    },
    'messages.history': async ({ localId }) => {
      const account = this.#signedIn()
      const row =
        messageRow(account.db, localId) ?? refuse('not_found', `No message ${localId} on this device`)
      if (row.server_id !== null) {
        const fetched = await account.relay.call('messageHistory', { params: { id: row.server_id } })
        if (fetched.ok) saveVersions(account.db, row.server_id, fetched.value.versions)
      }
      return {
        message: this.#view(account, localId),
        versions: row.server_id === null ? [] : cachedVersions(account.db, row.server_id),
      }
    },
    'typing.set': async ({ peerId, typing }) => {
      const account = this.#signedIn()
      if (settingsOf(account.db).sendTypingIndicators)
        account.socket?.signal('typing', { to: peerId, typing })
      return null
    },
    'presence.set': async ({ status }, caller) => {
      this.#signedIn()
      this.#presenceByWindow.set(caller, status)
      this.#applyPresence()
      return null
    },
    'drafts.get': async ({ peerId }) => draftOf(this.#signedIn().db, peerId),
    'drafts.set': async ({ peerId, text }) => {
      setDraft(this.#signedIn().db, peerId, text, this.#clock())
      return null
    },
    'search.query': async ({ q, peerId, limit, offset }) => {
      const account = this.#signedIn()
      return searchMessages(account.db, account.me, { q, peerId, limit: limit ?? 20, offset: offset ?? 0 })
    },
    'unread.get': async () => this.#unreadCounts(this.#signedIn()),
    'settings.get': async () => (this.#account ? settingsOf(this.#account.db) : { ...defaultSettings }),
    'settings.set': async (changes) => {
      const settings = saveSettings(this.#signedIn().db, changes)
      this.#emit('settings.changed', settings)
      return settings
    },
    'media.get': async ({ imageId, size }) => {
      const account = this.#signedIn()
      const result = await account.media.get(imageId, size)
      if (!result.ok) {
        if (result.error.code === 'network') refuse('offline', result.error.message)
        throw new Refusal(result.error)
      }
      return { mime: result.value.mime, dataBase64: result.value.bytes.toString('base64') }
    },
    'connection.get': async (): Promise<ConnectionInfo> =>
      this.#account?.connection ?? { state: 'offline', since: this.#startedAt, lastError: null },
    'app.info': async () => ({
      ...this.#appInfo,
      lastRelayUrl: this.#account?.relayUrl ?? readLastRelayUrl(this.#dataDir),
    }),
    'app.setViewing': async ({ peerId }) => {
      this.#viewing = peerId
      return null
    },
  }

  #client(relayUrl: string): RelayClient {
    return new RelayClient(relayUrl, {
      timeoutMs: this.#timing.restTimeoutMs,
      ...(this.#fetch && { fetch: this.#fetch }),
    })
  }

  async #patchContact(userId: number, status: 'accepted' | 'blocked') {
    const account = this.#signedIn()
    const { contact } = await this.#online(
      account.relay.call('patchContact', { params: { id: userId }, body: { status } }),
    )
    return this.#contactChanged(account, contact)
  }

  #contactChanged(account: Account, contact: Parameters<typeof saveContact>[1]) {
    saveContact(account.db, contact)
    const contacts = contactViews(account.db)
    this.#emit('contacts.changed', { contacts })
    return contactView(account.db, contact.user.id) ?? refuse('internal', 'The contact was not stored')
  }
}

function ownProfile(user: {
  id: number
  username: string
  firstName: string
  lastName: string
  email: string
  avatarImageId?: string | null
  createdAt: number
}): ProfileView {
  // Picked field by field: the relay's user may carry more than this build shows.
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
