import {
  type BridgeEvent,
  type BridgeEventPayload,
  bridgeChannels,
  isBridgeMethod,
  type Result,
} from '@parley/shared'
import { APP_HOST, APP_SCHEME } from '../app-protocol'

/** The parts of Electron's WebFrameMain the guard reads. */
export interface SenderFrame {
  readonly url: string
  readonly parent: unknown
}

/** The parts of Electron's IpcMainInvokeEvent the guard reads. */
export interface InvokeEvent {
  readonly sender: unknown
  readonly senderFrame: SenderFrame | null
}

/** The parts of our BrowserWindow's webContents the bridge uses. */
export interface BridgeContents {
  isDestroyed(): boolean
  send(channel: string, ...args: unknown[]): void
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => unknown): void
  removeHandler(channel: string): void
}

/** What the bridge needs of the core (CoreService). */
export interface BridgeCore {
  invoke(method: unknown, params: unknown): Promise<Result<unknown>>
  onAny(listener: <E extends BridgeEvent>(event: E, payload: BridgeEventPayload<E>) => void): () => void
}

/** Whether a URL is a page of ours: `app://parley/...`, nothing else (not file://, not http://). */
export function isAppUrl(raw: string): boolean {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  return (
    url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.password === ''
  )
}

/**
 * Whether an IPC call comes from our window's top frame, showing our page. A subframe (an iframe,
 * should one ever load), another window, or our window after it was navigated somewhere else is
 * refused, whatever it sends.
 */
export function isTrustedSender(event: InvokeEvent, contents: BridgeContents | null): boolean {
  if (!contents || contents.isDestroyed() || event.sender !== contents) return false
  const frame = event.senderFrame
  if (!frame || frame.parent !== null) return false
  return isAppUrl(frame.url)
}

const refusal = (code: 'forbidden' | 'unknown_method', message: string): Result<never> => ({
  ok: false,
  error: { code, message },
})

export interface BridgeOptions {
  ipcMain: IpcMainLike
  core: BridgeCore
  /** Our window's webContents, when there is one. */
  contents(): BridgeContents | null
  /** Called after each call from the renderer was answered (it is loaded and listening). */
  onCall?(): void
}

/**
 * The Electron side of the bridge: one invoke handler (sender checked, method name checked, then
 * the core validates the params against the method's schema) and every core event pushed to the
 * window. The handler never throws: a refusal is a Result like any other.
 */
export function registerBridge(options: BridgeOptions): () => void {
  const { ipcMain, core } = options
  ipcMain.handle(bridgeChannels.invoke, async (event, method, params) => {
    if (!isTrustedSender(event, options.contents())) {
      return refusal('forbidden', 'The bridge answers only the app window')
    }
    if (!isBridgeMethod(method)) {
      return refusal('unknown_method', `No bridge method ${typeof method === 'string' ? method : ''}`.trim())
    }
    const result = await core.invoke(method, params)
    options.onCall?.()
    return result
  })
  const unsubscribe = core.onAny((event, payload) => {
    const contents = options.contents()
    if (contents && !contents.isDestroyed()) contents.send(bridgeChannels.event, event, payload)
  })
  return () => {
    ipcMain.removeHandler(bridgeChannels.invoke)
    unsubscribe()
  }
}
