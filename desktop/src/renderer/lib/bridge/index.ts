import type { BridgeApi } from '@parley/shared'
import type { HostLink } from '../host-link'
import { WebSocketBridge } from './ws-bridge'

declare global {
  interface Window {
    /** Set by Electron's preload (contextBridge); absent in browser mode. */
    parley?: BridgeApi
  }
}

export interface Bridge extends BridgeApi {
  /** Called after the link to the core came back (browser mode): read state again. */
  onReconnect(listener: () => void): () => void
  /** The link to the core went down, came back, or was refused (browser mode; Electron's never drops). */
  onStatus(listener: (link: HostLink) => void): () => void
}

/** Electron's preload bridge when there is one, else the browser-mode host's WebSocket. */
export function connectBridge(): Bridge {
  const electron = window.parley
  if (electron) {
    return {
      invoke: (method, params) => electron.invoke(method, params),
      on: (event, listener) => electron.on(event, listener),
      onReconnect: () => () => undefined,
      onStatus: () => () => undefined,
    }
  }
  const token = new URLSearchParams(location.search).get('token') ?? ''
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return new WebSocketBridge(`${scheme}://${location.host}/bridge?token=${encodeURIComponent(token)}`)
}
