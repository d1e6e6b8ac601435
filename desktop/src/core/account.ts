import { EventEmitter } from 'node:events'
import path from 'node:path'
import type { RouteName } from '@parley/shared'
import {
  type ConnectionInfo,
  type ConversationKey,
  type Group,
  type ProfileView,
  parseConversationKey,
  type SessionView,
} from '@parley/shared'
import { ContactActions, SettingsActions } from './actions/contacts'
import { ConversationActions } from './actions/conversations'
import { GroupActions } from './actions/groups'
import { MessageActions } from './actions/messages'
import type { ApplySummary } from './db/apply'
import type { LocalDb } from './db/local-db'
import type { MediaSize } from './db/schema'
import { accountRow, clearToken, updateProfile } from './db/tables/account'
import { groupRow, saveGroup } from './db/tables/groups'
import { sessionOf } from './db/views/profile'
import type { Logger, Timing } from './logger'
import { DownloadedFiles } from './media/downloaded-files'
import { MediaCache, type MediaFile } from './media/media-cache'
import { OutgoingFiles } from './media/outgoing-files'
import { uploadMessageImage } from './media/upload'
import { RelayClient, type RouteInput } from './net/relay-client'
import { RelaySocket, type TypingEvent } from './net/relay-socket'
import { OutboxRunner } from './sync/outbox-runner'
import { SyncEngine } from './sync/sync-engine'

export interface AccountDeps {
  clock: () => number
  logger: Logger
  timing: Timing
  fetch?: typeof fetch
  /** The media folder's size cap, in bytes. */
  mediaCacheBytes?: number
}

export interface AccountEvents {
  state: [info: ConnectionInfo]
  applied: [summary: ApplySummary]
  presence: [userIds: number[]]
  typing: [event: TypingEvent]
  /** A group's "everyone" receipt markers moved. */
  groupReceipts: [conversation: ConversationKey]
  /** The relay refused the token; the account has stopped and forgotten it. */
  expired: []
  /** The outbox changed how a message looks. */
  outbox: [conversation: ConversationKey, localId: number]
  /** A message's picture is being uploaded. */
  uploadProgress: [localId: number, sentBytes: number, totalBytes: number]
  /** A message's file is being downloaded (to be saved). */
  downloadProgress: [fileId: string, receivedBytes: number, totalBytes: number]
}

/**
 * One signed-in account: its store, and (while it has a token) the relay client, socket, sync
 * engine and outbox that keep the store in step with the relay. The handlers use it through its
 * actions, per domain (`conversations`, `messages`, `contacts`, `settings`) and the relay calls
 * below; `db` and `me` are for the core's own owners (events, unread counts).
 */
export class Account extends EventEmitter<AccountEvents> {
  readonly db: LocalDb
  readonly me: number
  readonly relayUrl: string
  readonly conversations: ConversationActions
  readonly messages: MessageActions
  readonly contacts: ContactActions
  readonly groups: GroupActions
  readonly settings: SettingsActions
  readonly #relay: RelayClient
  readonly #media: MediaCache
  /** Files written here, until the relay has them; the relay's file limit; downloads. */
  readonly files: OutgoingFiles
  readonly downloads: DownloadedFiles
  readonly #deps: AccountDeps
  /** The session token in plain text: the store may keep it sealed (CoreOptions.tokenCipher). */
  #token: string | null
  #socket: RelaySocket | undefined
  #engine: SyncEngine | undefined
  #outbox: OutboxRunner | undefined
  #expired = false
  #presence: 'online' | 'away' = 'online'

  private constructor(db: LocalDb, deps: AccountDeps, token: string | null) {
    super()
    const row = accountRow(db)
    if (!row) throw new Error(`${db.file} holds no account`)
    this.db = db
    this.me = row.user_id
    this.relayUrl = row.relay_url
    this.conversations = new ConversationActions(db, this.me)
    this.messages = new MessageActions(db, this.me)
    this.groups = new GroupActions(db, this.me)
    this.contacts = new ContactActions(db, this.me)
    this.settings = new SettingsActions(db, this.me)
    this.#deps = deps
    this.#token = token
    this.#relay = new RelayClient(row.relay_url, {
      token,
      timeoutMs: deps.timing.restTimeoutMs,
      onUnauthorized: () => this.#expire(),
      ...(deps.fetch && { fetch: deps.fetch }),
    })
    // Next to the database: `<account>.sqlite` keeps its pictures in `<account>-media/`.
    const base = path.basename(db.file, path.extname(db.file))
    this.#media = new MediaCache({
      db,
      dir: path.join(path.dirname(db.file), `${base}-media`),
      fetchImage: (id, size) => this.#relay.getImage(id, size),
      clock: deps.clock,
      ...(deps.mediaCacheBytes !== undefined && { capBytes: deps.mediaCacheBytes }),
    })
    this.files = new OutgoingFiles({
      dir: path.join(path.dirname(db.file), `${base}-outgoing`),
      db,
      relay: this.#relay,
      progress: (...p) => this.emit('uploadProgress', ...p),
      clock: deps.clock,
    })
    this.downloads = new DownloadedFiles({
      dir: path.join(path.dirname(db.file), `${base}-downloads`),
      relay: this.#relay,
      progress: (...p) => this.emit('downloadProgress', ...p),
    })
  }

  /**
   * Opens an account database that already holds its account row (see saveAccount), with its
   * session token in plain text (null: signed out).
   */
  static async open(db: LocalDb, deps: AccountDeps, token: string | null): Promise<Account> {
    return new Account(db, deps, token)
  }

  get session(): SessionView | null {
    return sessionOf(accountRow(this.db))
  }

  get connection(): ConnectionInfo {
    return this.#engine?.info ?? { state: 'offline', since: this.#deps.clock(), lastError: null }
  }

  get online(): boolean {
    return this.#engine?.online ?? false
  }

  /** Connects and syncs, if the account has a token. */
  start(): void {
    const row = accountRow(this.db)
    const token = this.#token
    if (!row?.token || !token || this.#engine) return
    const { clock, logger, timing } = this.#deps
    this.#relay.token = token
    this.#expired = false
    const socket = new RelaySocket({
      baseUrl: row.relay_url,
      token,
      ackTimeoutMs: timing.ackTimeoutMs,
      reconnectionDelayMs: timing.reconnectDelayMs,
      reconnectionDelayMaxMs: timing.reconnectDelayMaxMs,
    })
    const engine = new SyncEngine({
      db: this.db,
      me: this.me,
      socket,
      relay: this.#relay,
      clock,
      timing,
      logger,
    })
    const outbox = new OutboxRunner({
      db: this.db,
      me: this.me,
      socket,
      isOnline: () => engine.online,
      clock,
      timing,
      logger,
      uploadImage: (row) =>
        uploadMessageImage(
          {
            db: this.db,
            relay: this.#relay,
            media: this.#media,
            progress: (...p) => this.emit('uploadProgress', ...p),
          },
          row,
        ),
      uploadFile: (row) => this.files.upload(row),
      hide: (id) => this.#relay.call('hideMessage', { params: { id } }),
    })
    // A new socket starts online at the relay: after every (re)connect it is told what the
    // windows asked for last, or a hidden window would show as online after a network blip.
    socket.on('connected', () => socket.signal('user_status_change', { status: this.#presence }))
    engine.on('state', (info) => this.emit('state', info))
    engine.on('applied', (summary) => {
      this.emit('applied', summary)
      if (summary.received.size > 0) outbox.kick()
    })
    engine.on('online', () => outbox.resumeAll())
    engine.on('presence', (ids) => this.emit('presence', ids))
    engine.on('typing', (event) => this.emit('typing', event))
    engine.on('groupReceipts', (conversation) => this.emit('groupReceipts', conversation))
    engine.on('unauthorized', () => this.#expire())
    outbox.on('changed', (conversation, localId) => this.emit('outbox', conversation, localId))
    this.#socket = socket
    this.#engine = engine
    this.#outbox = outbox
    engine.start()
  }

  /** How this device shows to contacts: said to the relay now if connected, else on connecting. */
  setPresence(status: 'online' | 'away'): void {
    if (status === this.#presence) return
    this.#presence = status
    this.#socket?.signal('user_status_change', { status })
  }

  /** Something was queued: send it if we can. */
  kickOutbox(): void {
    this.#outbox?.kick()
  }

  // --- actions on the relay, the socket and the media cache, for the bridge's handlers ----------

  /** A signed-in request outside the route table (see RelayClient.raw). */
  relayRaw(method: 'GET' | 'DELETE' | 'POST', url: string, body?: unknown) {
    return this.#relay.raw(method, url, body)
  }

  /** The account's media folder (pictures cached from the relay). */
  get mediaDir(): string {
    return this.#media.dir
  }

  /** Ends the session at the relay; the caller forgets the token whatever the answer. */
  logout() {
    return this.#relay.call('logout')
  }

  patchProfile(body: RouteInput<'patchUser'>['body']) {
    return this.#relay.call('patchUser', { params: { id: this.me }, body })
  }

  uploadImage(bytes: Buffer, mime: string) {
    return this.#relay.uploadImage(bytes, mime)
  }

  searchUsers(q: string, limit: number | undefined) {
    return this.#relay.call('searchUsers', { query: { q, limit } })
  }

  addContact(username: string) {
    return this.#relay.call('addContact', { body: { username } })
  }

  patchContact(userId: number, status: 'accepted' | 'blocked') {
    return this.#relay.call('patchContact', { params: { id: userId }, body: { status } })
  }

  removeContact(userId: number) {
    return this.#relay.call('removeContact', { params: { id: userId } })
  }

  messageHistory(serverId: number) {
    return this.#relay.call('messageHistory', { params: { id: serverId } })
  }

  /** Tells the conversation we are (not) typing, if connected; typing is not worth queueing. */
  sendTyping(conversation: ConversationKey, typing: boolean): void {
    if (!this.settings.get().sendTypingIndicators) return
    const ref = parseConversationKey(conversation)
    if (ref?.kind === 'dm') this.#socket?.signal('typing', { to: ref.id, typing })
    else if (ref?.kind === 'group') {
      const group = groupRow(this.db, ref.id)
      if (group && group.left_at === null) this.#socket?.signal('typing', { group: ref.id, typing })
    }
  }

  /** A relay route, for the actions that need the relay and keep nothing offline (groups). */
  relayCall<R extends RouteName>(name: R, input?: RouteInput<R>) {
    return this.#relay.call(name, input)
  }

  /**
   * Profiles this device lacks (group members who are not contacts), fetched from the relay and
   * kept in the users table; how many were fetched.
   */
  async fetchProfiles(ids: readonly number[]): Promise<number> {
    const missing = ids.filter((id) => this.groups.user(id) === null).slice(0, 200)
    let fetched = 0
    await Promise.all(
      missing.map(async (id) => {
        const result = await this.#relay.call('getUser', { params: { id } })
        if (result.ok && this.#engine) {
          this.groups.saveUser(result.value.user)
          fetched += 1
        }
      }),
    )
    return fetched
  }

  /** Reads a group's log up to its head now (after a change made here, or a join). */
  catchUpGroup(groupId: number): Promise<void> {
    return this.#engine?.catchUpGroup(groupId) ?? Promise.resolve()
  }

  /** Applies a relay answer's snapshot of a group (created, joined, changed) to the store. */
  saveGroupSnapshot(group: Group, cursorTo?: number): void {
    this.db.transaction(() => saveGroup(this.db, this.me, group, cursorTo))
  }

  /** The relay changed this account's profile (as it answered a change made here). */
  saveProfile(user: ProfileView): void {
    updateProfile(this.db, user)
  }

  /** A picture from the media cache, fetched from the relay once if not there. */
  image(imageId: string, size: MediaSize) {
    return this.#media.get(imageId, size)
  }

  /** Keeps a picture written here (pinned) until the relay has it. */
  keepLocalImage(localImageId: string, file: MediaFile): void {
    this.#media.put(localImageId, 'full', file, true)
  }

  /** A picture written here is no longer needed pinned (its message went, or the relay has it). */
  releaseLocalImage(localImageId: string): void {
    this.#media.unpin(localImageId)
  }

  /** Signs out here: stops syncing, forgets the token (the row stays) and closes the store. */
  async signOut(): Promise<void> {
    await this.stop()
    clearToken(this.db)
    await this.close()
  }

  async stop(): Promise<void> {
    const engine = this.#engine
    const outbox = this.#outbox
    this.#engine = undefined
    this.#outbox = undefined
    this.#socket = undefined
    await engine?.stop()
    await outbox?.close()
    if (engine) this.emit('state', { state: 'offline', since: this.#deps.clock(), lastError: null })
  }

  async close(): Promise<void> {
    await this.stop()
    await this.db.close()
  }

  #expire(): void {
    if (this.#expired) return
    this.#expired = true
    clearToken(this.db)
    this.#token = null
    this.#relay.token = null
    void this.stop().then(() => this.emit('expired'))
  }
}
