import { EventEmitter } from 'node:events'
import {
  type BridgeEvent,
  type BridgeEventPayload,
  type BridgeMethod,
  type BridgeParams,
  type BridgeResult,
  bridgeMethods,
  type ConversationKey,
  isBridgeMethod,
  type Result,
  validate,
} from '@parley/shared'
import { lockDataDir } from './data-lock'
import { StoreTooNewError } from './db/local-db'
import { assembleCore, bridgeHandlers, type Core, type Handlers } from './handlers/index'
import type { CoreOptions } from './options'
import { Refusal } from './refusal'

export type { CoreOptions, KeychainStatus, TokenCipher } from './options'

/** The caller of transports with one window (Electron, tests): all calls come from it. */
export const ONLY_WINDOW = 'window'

/**
 * The bridge's boundary (shared/src/bridge): `invoke` takes anything, checks it against the
 * method's schema, hands it to the method's domain handler (handlers/), and always resolves to a
 * Result. It never throws. What the handlers share is the Core (handlers/context.ts).
 */
export class CoreService {
  readonly #events = new EventEmitter()
  readonly #core: Core
  readonly #handlers: Handlers<BridgeMethod>
  #closed = false
  #releaseLock: () => void = () => undefined

  private constructor(options: CoreOptions) {
    this.#core = assembleCore(options, (event, payload) => {
      this.#events.emit(event, payload)
      this.#events.emit('*', event, payload)
    })
    this.#handlers = bridgeHandlers(this.#core)
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
      await service.#core.session.reopen()
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
      this.#core.logger.error(`${method} failed`, {
        error: error instanceof Error ? error.stack : String(error),
      })
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
    this.#core.presence.closed(caller)
  }

  /** The conversation the window shows, as the renderer last said (`app.setViewing`). */
  get viewing(): ConversationKey | null {
    return this.#core.viewing
  }

  /** The shell asks the renderer to show a group invite's join screen (a `parley://join/<code>` link). */
  openJoin(code: string): void {
    this.#core.emit('app.openJoin', { code })
  }

  /** The shell asks the renderer to show one message in its conversation (a `parley://message/<id>` link). */
  openMessage(messageId: number): void {
    this.#core.emit('app.openMessage', { messageId })
  }

  /** The shell asks the renderer to show a conversation (a clicked notification, a parley:// link). */
  openConversation(conversation: ConversationKey, localId?: number): void {
    this.#core.emit(
      'app.openConversation',
      localId === undefined ? { conversation } : { conversation, localId },
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#core.typing.close()
    this.#core.unread.close()
    await this.#core.session.close()
    this.#releaseLock()
  }
}
