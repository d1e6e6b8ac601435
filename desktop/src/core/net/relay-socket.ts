import { EventEmitter } from 'node:events'
import {
  type BridgeError,
  type ClientEventName,
  type ClientEventPayload,
  type ClientEventResults,
  type ClientToServerEvents,
  clientEvents,
  type FeedEvent,
  feedEventTypes,
  GroupEvent,
  GroupReceiptsEvent,
  isErrorCode,
  type Result,
  type ServerToClientEvents,
  StatusChangeEvent,
  TypingEvent,
} from '@parley/shared'
import { io, type Socket } from 'socket.io-client'
import { checkFeedEvent, checkIncoming, checkSyncPage } from './incoming'
import { describe, failure } from './relay-client'

export type { TypingEvent }

export interface RelaySocketEvents {
  connected: []
  disconnected: [reason: string]
  /** The relay refused the token: the session is over. */
  unauthorized: []
  /** A connection attempt failed; socket.io-client (or this class) tries again. */
  connectFailed: [error: BridgeError]
  feed: [event: FeedEvent]
  typing: [event: TypingEvent]
  presence: [event: StatusChangeEvent]
  /** An entry of a group's log, live (`group_event`). */
  groupEvent: [event: GroupEvent]
  /** How far everyone in a group received and read (`group_receipts`). */
  groupReceipts: [event: GroupReceiptsEvent]
  /** Something the relay sent did not fit the protocol and was dropped. */
  invalid: [what: string, message: string]
}

export interface RelaySocketOptions {
  baseUrl: string
  token: string
  ackTimeoutMs?: number
  reconnectionDelayMs?: number
  reconnectionDelayMaxMs?: number
}

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>

/**
 * The Socket.IO connection to the relay: reconnects by itself (socket.io-client's backoff, plus a
 * manual retry in the cases the library leaves to the app), checks what arrives, and turns acks
 * into Results. Emits are only made while connected, so socket.io-client never buffers one to
 * replay on its own after a reconnect: resending is the outbox's decision.
 */
export class RelaySocket extends EventEmitter<RelaySocketEvents> {
  readonly #socket: ClientSocket
  readonly #ackTimeoutMs: number
  readonly #retryBaseMs: number
  readonly #retryMaxMs: number
  #retryDelayMs: number
  #retryTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: RelaySocketOptions) {
    super()
    const url = new URL(options.baseUrl)
    const prefix = url.pathname.replace(/\/+$/, '')
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 10_000
    const delay = options.reconnectionDelayMs ?? 1000
    this.#retryBaseMs = delay
    this.#retryDelayMs = delay
    this.#retryMaxMs = options.reconnectionDelayMaxMs ?? 30_000
    this.#socket = io(url.origin, {
      path: `${prefix}/socket.io/`,
      auth: { token: options.token },
      transports: ['websocket'],
      autoConnect: false,
      forceNew: true,
      reconnection: true,
      reconnectionDelay: delay,
      reconnectionDelayMax: this.#retryMaxMs,
      randomizationFactor: 0.5,
      timeout: 10_000,
    })
    this.#listen()
  }

  get connected(): boolean {
    return this.#socket.connected
  }

  open(): void {
    this.#closed = false
    this.#socket.connect()
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#retryTimer)
    this.#socket.disconnect()
  }

  /** Emits a client event and waits for its ack; a dropped connection or timeout is `network`. */
  async request<E extends ClientEventName>(
    event: E,
    payload: ClientEventPayload<E>,
    timeoutMs = this.#ackTimeoutMs,
  ): Promise<Result<ClientEventResults[E]>> {
    const socket = this.#socket
    if (!socket.connected) return failure('offline', 'Not connected to the relay')
    let onDisconnect: (() => void) | undefined
    const dropped = new Promise<never>((_, reject) => {
      onDisconnect = () => reject(new Error('the connection dropped before the relay answered'))
      socket.once('disconnect', onDisconnect)
    })
    let ack: unknown
    try {
      // The typed emitWithAck cannot take a generic event name; the ack is checked below instead.
      const timed = socket.timeout(timeoutMs) as unknown as {
        emitWithAck(name: string, body: unknown): Promise<unknown>
      }
      ack = await Promise.race([timed.emitWithAck(event, payload), dropped])
    } catch (error) {
      return failure('network', `${event}: no answer from the relay (${describe(error)})`)
    } finally {
      if (onDisconnect) socket.off('disconnect', onDisconnect)
    }
    if (typeof ack !== 'object' || ack === null || !('ok' in ack)) {
      return failure('invalid_response', `${event}: the ack is not a result`)
    }
    if (ack.ok !== true) {
      const error = (ack as { error?: { code?: unknown; message?: unknown } }).error
      const message = typeof error?.message === 'string' ? error.message : `${event} failed`
      return { ok: false, error: { code: isErrorCode(error?.code) ? error.code : 'internal_error', message } }
    }
    const { ok: _, ...value } = ack as Record<string, unknown>
    const checked =
      event === 'sync'
        ? checkSyncPage(value)
        : checkIncoming(clientEvents[event].result, value, `${event} ack`)
    if (!checked.ok) return failure('invalid_response', checked.message)
    return { ok: true, value: checked.value as ClientEventResults[E] }
  }

  /** Fire and forget (typing): no ack awaited, dropped while offline. */
  signal<E extends 'typing' | 'user_status_change'>(event: E, payload: ClientEventPayload<E>): void {
    if (!this.#socket.connected) return
    ;(this.#socket as unknown as { emit(name: string, body: unknown, ack: () => void): void }).emit(
      event,
      payload,
      () => undefined,
    )
  }

  #listen(): void {
    const socket = this.#socket
    socket.on('connect', () => {
      this.#retryDelayMs = this.#retryBaseMs
      this.emit('connected')
    })
    socket.on('disconnect', (reason) => {
      this.emit('disconnected', reason)
      // The relay closed this socket itself (a restart, or a logout elsewhere): socket.io-client
      // leaves reconnecting to the app. A revoked token shows up as `unauthorized` at the handshake.
      if (reason === 'io server disconnect') this.#retryLater()
    })
    socket.on('connect_error', (error: Error & { data?: { code?: unknown; message?: unknown } }) => {
      if (error.data?.code === 'unauthorized') {
        this.emit('unauthorized')
        return
      }
      const code = isErrorCode(error.data?.code) ? error.data.code : 'network'
      this.emit('connectFailed', { code, message: `Cannot connect to the relay: ${error.message}` })
      // Refused by the relay's middleware for another reason: not retried by the library.
      if (!socket.active) this.#retryLater()
    })
    for (const type of feedEventTypes) {
      socket.on(type, (payload: unknown) => {
        const checked = checkFeedEvent(payload, type)
        if (!checked.ok || checked.event.type !== type) {
          this.emit(
            'invalid',
            type,
            checked.ok ? `an event named ${type} carried ${checked.event.type}` : checked.message,
          )
          return
        }
        this.emit('feed', checked.event)
      })
    }
    socket.on('typing', (payload: unknown) => {
      const checked = checkIncoming(TypingEvent, payload, 'typing')
      if (checked.ok) this.emit('typing', checked.value)
      else this.emit('invalid', 'typing', checked.message)
    })
    socket.on('user_status_change', (payload: unknown) => {
      const checked = checkIncoming(StatusChangeEvent, payload, 'user_status_change')
      if (checked.ok) this.emit('presence', checked.value)
      else this.emit('invalid', 'user_status_change', checked.message)
    })
    socket.on('group_event', (payload: unknown) => {
      const checked = checkIncoming(GroupEvent, payload, 'group_event')
      if (checked.ok) this.emit('groupEvent', checked.value)
      else this.emit('invalid', 'group_event', checked.message)
    })
    socket.on('group_receipts', (payload: unknown) => {
      const checked = checkIncoming(GroupReceiptsEvent, payload, 'group_receipts')
      if (checked.ok) this.emit('groupReceipts', checked.value)
      else this.emit('invalid', 'group_receipts', checked.message)
    })
  }

  #retryLater(): void {
    if (this.#closed) return
    clearTimeout(this.#retryTimer)
    const delay = this.#retryDelayMs * (0.5 + Math.random())
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, this.#retryMaxMs)
    this.#retryTimer = setTimeout(() => {
      if (!this.#closed && !this.#socket.connected && !this.#socket.active) this.#socket.connect()
    }, delay)
  }
}

/** What the sync engine and outbox need of the connection (the socket above, or a test's script). */
export interface RelayLink {
  readonly connected: boolean
  open(): void
  close(): void
  request: RelaySocket['request']
  signal: RelaySocket['signal']
  on<K extends keyof RelaySocketEvents>(event: K, listener: (...args: RelaySocketEvents[K]) => void): unknown
}
