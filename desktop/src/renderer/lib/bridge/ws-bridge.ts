import type {
  BridgeApi,
  BridgeError,
  BridgeEvent,
  BridgeEventPayload,
  BridgeMethod,
  BridgeParams,
  BridgeResult,
} from '@parley/shared'
import { HOST_REFUSED_TEXT, type HostLink } from '../host-link'

type Listener = (payload: unknown) => void

const LOST: BridgeError = { code: 'app_unreachable', message: 'The connection to the Parley app was lost' }
const REFUSED: BridgeError = { code: 'app_unreachable', message: HOST_REFUSED_TEXT }
interface Pending {
  resolve: (result: BridgeResult<BridgeMethod>) => void
}

/**
 * Browser mode's bridge: bridge calls as JSON frames over one WebSocket to the host. Calls made
 * while the socket is (re)connecting wait for it; if the host goes away, calls in flight resolve
 * with an `app_unreachable` error (they may or may not have run) and the socket keeps trying to return.
 * `onReconnect` tells the app to read its state again (events may have been missed meanwhile).
 * A socket that fails to open cannot tell why; the host's answer to a plain GET of the same
 * address can (a stale token, or no host at all).
 */
export class WebSocketBridge implements BridgeApi {
  readonly #url: string
  readonly #listeners = new Map<string, Set<Listener>>()
  readonly #pending = new Map<number, Pending>()
  readonly #reconnectListeners = new Set<() => void>()
  readonly #statusListeners = new Set<(link: HostLink) => void>()
  readonly #queue: string[] = []
  #socket: WebSocket | null = null
  #nextId = 1
  #everOpened = false
  #link: HostLink = 'up'
  #retryMs = 250

  constructor(url: string) {
    this.#url = url
    this.#connect()
  }

  invoke<M extends BridgeMethod>(method: M, params: BridgeParams<M>): Promise<BridgeResult<M>> {
    const id = this.#nextId++
    const frame = JSON.stringify({ type: 'invoke', id, method, params })
    return new Promise<BridgeResult<M>>((resolve) => {
      const open = this.#socket?.readyState === WebSocket.OPEN
      if (!open && (this.#everOpened || this.#link === 'refused')) {
        // The host went away, or will not have this page: say so instead of waiting.
        resolve({ ok: false, error: this.#link === 'refused' ? REFUSED : LOST } as BridgeResult<M>)
        return
      }
      this.#pending.set(id, { resolve: resolve as Pending['resolve'] })
      if (open) this.#socket?.send(frame)
      else this.#queue.push(frame)
    })
  }

  on<E extends BridgeEvent>(event: E, listener: (payload: BridgeEventPayload<E>) => void): () => void {
    let set = this.#listeners.get(event)
    if (!set) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    set.add(listener as Listener)
    return () => set.delete(listener as Listener)
  }

  get link(): HostLink {
    return this.#link
  }

  onStatus(listener: (link: HostLink) => void): () => void {
    this.#statusListeners.add(listener)
    return () => this.#statusListeners.delete(listener)
  }

  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener)
    return () => this.#reconnectListeners.delete(listener)
  }

  #connect(): void {
    const socket = new WebSocket(this.#url)
    let opened = false
    this.#socket = socket
    socket.addEventListener('open', () => {
      opened = true
      this.#retryMs = 250
      for (const frame of this.#queue.splice(0)) socket.send(frame)
      if (this.#everOpened) for (const listener of this.#reconnectListeners) listener()
      this.#everOpened = true
      this.#setLink('up')
    })
    socket.addEventListener('message', (message) => {
      if (typeof message.data === 'string') this.#receive(message.data)
    })
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return
      this.#socket = null
      for (const pending of this.#pending.values()) pending.resolve({ ok: false, error: LOST })
      this.#pending.clear()
      if (opened) this.#setLink('lost')
      else void this.#askWhy()
      // Even a refused page keeps trying, slowly: the host may come back with this token.
      setTimeout(() => this.#connect(), this.#retryMs)
      this.#retryMs = Math.min(this.#retryMs * 2, 5000)
    })
  }

  /** A socket did not open: a stale token or a host that is down (see the host's /bridge GET). */
  async #askWhy(): Promise<void> {
    let refused = false
    try {
      const response = await fetch(this.#url.replace(/^ws/, 'http'), { cache: 'no-store' })
      const body = (await response.json().catch(() => null)) as { error?: { code?: unknown } } | null
      refused = response.status === 401 && body?.error?.code === 'token_refused'
    } catch {
      // No answer at all: the host is not running.
    }
    if (this.#socket?.readyState === WebSocket.OPEN) return
    if (refused) {
      this.#setLink('refused')
      // Calls that waited for a first connection will not get one.
      for (const pending of this.#pending.values()) pending.resolve({ ok: false, error: REFUSED })
      this.#pending.clear()
      this.#queue.length = 0
    } else if (this.#everOpened) {
      this.#setLink('lost')
    }
  }

  #setLink(link: HostLink): void {
    if (link === this.#link) return
    this.#link = link
    for (const listener of this.#statusListeners) listener(link)
  }

  #receive(text: string): void {
    let frame: { type?: unknown; id?: unknown; result?: unknown; event?: unknown; payload?: unknown }
    try {
      frame = JSON.parse(text)
    } catch {
      return
    }
    if (frame.type === 'result' && typeof frame.id === 'number') {
      const pending = this.#pending.get(frame.id)
      this.#pending.delete(frame.id)
      pending?.resolve(frame.result as BridgeResult<BridgeMethod>)
    } else if (frame.type === 'event' && typeof frame.event === 'string') {
      for (const listener of this.#listeners.get(frame.event) ?? []) listener(frame.payload)
    }
  }
}
