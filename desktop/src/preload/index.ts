import type { BridgeApi, bridgeChannels } from '@parley/shared'
import { contextBridge, ipcRenderer } from 'electron'

/**
 * The renderer's whole view of Electron: `window.parley = { invoke, on }` over two fixed channels.
 * No ipcRenderer, no generic send, no event objects (their `sender` would leak IPC to the page).
 *
 * The preload runs sandboxed, so it is one bundled file that requires only 'electron'. The channel
 * names are written out rather than imported, which would bundle @parley/shared's schemas into it;
 * `satisfies` ties them to the shared constants, so tsc fails if the two ever differ.
 */
const channels = Object.freeze({
  invoke: 'parley:invoke',
  event: 'parley:event',
} as const satisfies typeof bridgeChannels)

type Listener = (payload: unknown) => void
const listeners = new Map<string, Set<Listener>>()

ipcRenderer.on(channels.event, (_event, name: unknown, payload: unknown) => {
  if (typeof name !== 'string') return
  for (const listener of listeners.get(name) ?? []) {
    try {
      listener(payload)
    } catch (error) {
      // One failing listener must not starve the others of the event.
      console.error(error)
    }
  }
})

const api: BridgeApi = {
  invoke: (method, params) => ipcRenderer.invoke(channels.invoke, method, params),
  on: (event, listener) => {
    if (typeof event !== 'string' || typeof listener !== 'function') return () => undefined
    const set = listeners.get(event) ?? new Set<Listener>()
    listeners.set(event, set)
    const entry = listener as Listener
    set.add(entry)
    return () => {
      set.delete(entry)
    }
  },
}

contextBridge.exposeInMainWorld('parley', Object.freeze(api))
