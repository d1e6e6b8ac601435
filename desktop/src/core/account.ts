import { EventEmitter } from 'node:events'
import type { ConnectionInfo, SessionView } from '@parley/shared'
import type { ApplySummary } from './db/apply'
import type { LocalDb } from './db/local-db'
import { account, clearToken, profileOf } from './db/small-tables'
import type { Logger, Timing } from './logger'
import { RelayClient } from './net/relay-client'
import { RelaySocket, type TypingEvent } from './net/relay-socket'
import { OutboxRunner } from './sync/outbox-runner'
import { SyncEngine } from './sync/sync-engine'

export interface AccountDeps {
  clock: () => number
  logger: Logger
  timing: Timing
  fetch?: typeof fetch
}

export interface AccountEvents {
  state: [info: ConnectionInfo]
  applied: [summary: ApplySummary]
  presence: [userIds: number[]]
  typing: [event: TypingEvent]
  /** The relay refused the token; the account has stopped and forgotten it. */
  expired: []
  /** The outbox changed how a message looks. */
  outbox: [peerId: number, localId: number]
}

/**
 * One signed-in account: its store, and (while it has a token) the relay client, socket, sync
 * engine and outbox that keep the store in step with the relay.
 */
export class Account extends EventEmitter<AccountEvents> {
  readonly db: LocalDb
  readonly me: number
  readonly relayUrl: string
  readonly relay: RelayClient
  readonly #deps: AccountDeps
  #socket: RelaySocket | undefined
  #engine: SyncEngine | undefined
  #outbox: OutboxRunner | undefined
  #expired = false

  private constructor(db: LocalDb, deps: AccountDeps) {
    super()
    const row = account(db)
    if (!row) throw new Error(`${db.file} holds no account`)
    this.db = db
    this.me = row.user_id
    this.relayUrl = row.relay_url
    this.#deps = deps
    this.relay = new RelayClient(row.relay_url, {
      token: row.token,
      timeoutMs: deps.timing.restTimeoutMs,
      onUnauthorized: () => this.#expire(),
      ...(deps.fetch && { fetch: deps.fetch }),
    })
  }

  /** Opens an account database that already holds its account row (see saveAccount). */
  static async open(db: LocalDb, deps: AccountDeps): Promise<Account> {
    return new Account(db, deps)
  }

  get session(): SessionView | null {
    const row = account(this.db)
    if (!row?.token) return null
    return { user: profileOf(row), relayUrl: row.relay_url, expiresAt: row.token_expires_at }
  }

  get connection(): ConnectionInfo {
    return this.#engine?.info ?? { state: 'offline', since: this.#deps.clock(), lastError: null }
  }

  get socket(): RelaySocket | undefined {
    return this.#socket
  }

  get online(): boolean {
    return this.#engine?.online ?? false
  }

  /** Connects and syncs, if the account has a token. */
  start(): void {
    const row = account(this.db)
    if (!row?.token || this.#engine) return
    const { clock, logger, timing } = this.#deps
    this.relay.token = row.token
    this.#expired = false
    const socket = new RelaySocket({
      baseUrl: row.relay_url,
      token: row.token,
      ackTimeoutMs: timing.ackTimeoutMs,
      reconnectionDelayMs: timing.reconnectDelayMs,
      reconnectionDelayMaxMs: timing.reconnectDelayMaxMs,
    })
    const engine = new SyncEngine({
      db: this.db,
      me: this.me,
      socket,
      relay: this.relay,
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
    })
    engine.on('state', (info) => this.emit('state', info))
    engine.on('applied', (summary) => {
      this.emit('applied', summary)
      if (summary.received.size > 0) outbox.kick()
    })
    engine.on('online', () => outbox.resumeAll())
    engine.on('presence', (ids) => this.emit('presence', ids))
    engine.on('typing', (event) => this.emit('typing', event))
    engine.on('unauthorized', () => this.#expire())
    outbox.on('changed', (peerId, localId) => this.emit('outbox', peerId, localId))
    this.#socket = socket
    this.#engine = engine
    this.#outbox = outbox
    engine.start()
  }

  /** Something was queued: send it if we can. */
  kickOutbox(): void {
    this.#outbox?.kick()
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
    this.relay.token = null
    void this.stop().then(() => this.emit('expired'))
  }
}
