import Type from 'typebox'
import { Strict } from '../protocol/common'
import { BridgeError } from './errors'
import type { BridgeEvent, BridgeEventPayload } from './events'
import type { BridgeMethod, BridgeParams, BridgeResult } from './methods'

/** Electron IPC channels (the preload's allowlist is exactly these). */
export const bridgeChannels = {
  invoke: 'parley:invoke',
  event: 'parley:event',
} as const

/**
 * What both targets (Electron preload, browser-mode WebSocket) give the renderer. Nothing else
 * crosses: no generic `send(channel, ...any)`.
 */
export interface BridgeApi {
  invoke<M extends BridgeMethod>(method: M, params: BridgeParams<M>): Promise<BridgeResult<M>>
  on<E extends BridgeEvent>(event: E, listener: (payload: BridgeEventPayload<E>) => void): () => void
}

/**
 * Browser mode's WebSocket frames (JSON text). The renderer sends `invoke` frames with an id of its
 * choosing; the host answers each with one `result` frame, and pushes `event` frames.
 */
export const InvokeFrame = Strict({
  type: Type.Literal('invoke'),
  id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  method: Type.String({ maxLength: 64 }),
  params: Type.Unknown(),
})
export type InvokeFrame = Type.Static<typeof InvokeFrame>

export const ResultFrame = Strict({
  type: Type.Literal('result'),
  /** Null when the frame it answers had no readable id. */
  id: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  result: Type.Union([
    Strict({ ok: Type.Literal(true), value: Type.Unknown() }),
    Strict({ ok: Type.Literal(false), error: BridgeError }),
  ]),
})
export type ResultFrame = Type.Static<typeof ResultFrame>

export const EventFrame = Strict({
  type: Type.Literal('event'),
  event: Type.String(),
  payload: Type.Unknown(),
})
export type EventFrame = Type.Static<typeof EventFrame>
