import type {
  BridgeApi,
  BridgeError,
  BridgeEvent,
  BridgeEventPayload,
  BridgeMethod,
  BridgeParams,
  BridgeResult,
} from '@parley/shared'

type Listener = (payload: unknown) => void

const LOST: BridgeError = { code: 'app_unreachable', message: 'The connection to the Parley app was lost' }
interface Pending {
  resolve: (result: BridgeResult<BridgeMethod>) => void
}

/**
 * Browser mode's bridge: bridge calls as JSON frames over one WebSocket to the host. Calls made
 * while the socket is (re)connecting wait for it; if the host goes away, calls in flight resolve
 * with an `app_unreachable` error (they may or may not have run) and the socket keeps trying to return.
 * `onReconnect` tells the app to read its state again (events may have been missed meanwhile).
 */
export class WebSocketBridge implements BridgeApi {
  readonly #url: string
  readonly #listeners = new Map<string, Set<Listener>>()
  readonly #pending = new Map<number, Pending>()
  readonly #reconnectListeners = new Set<() => void>()
  readonly #statusListeners = new Set<(connected: boolean) => void>()
  readonly #queue: string[] = []
  #socket: WebSocket | null = null
  #nextId = 1
  #everOpened = false
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
      if (!open && this.#everOpened) {
        // The host went away (stopped, or restarted with a new token): say so instead of waiting.
        resolve({ ok: false, error: LOST } as BridgeResult<M>)
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

  /** Whether the link to the host is up (false while it is lost, after it had been up). */
  get connected(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN || !this.#everOpened
  }

  onStatus(listener: (connected: boolean) => void): () => void {
    this.#statusListeners.add(listener)
    return () => this.#statusListeners.delete(listener)
  }

  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener)
    return () => this.#reconnectListeners.delete(listener)
  }

  #connect(): void {
    const socket = new WebSocket(this.#url)
    this.#socket = socket
    socket.addEventListener('open', () => {
      this.#retryMs = 250
      for (const frame of this.#queue.splice(0)) socket.send(frame)
      if (this.#everOpened) for (const listener of this.#reconnectListeners) listener()
      this.#everOpened = true
      for (const listener of this.#statusListeners) listener(true)
    })
    socket.addEventListener('message', (message) => {
      if (typeof message.data === 'string') this.#receive(message.data)
    })
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return
      this.#socket = null
      for (const pending of this.#pending.values()) pending.resolve({ ok: false, error: LOST })
      this.#pending.clear()
      if (this.#everOpened) for (const listener of this.#statusListeners) listener(false)
      setTimeout(() => this.#connect(), this.#retryMs)
      this.#retryMs = Math.min(this.#retryMs * 2, 5000)
    })
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
