import Type from 'typebox'
import { Id, Strict, Timestamp } from './common'

/**
 * What a device calls itself in the list of sessions ("Ada's laptop"): visible text without control
 * characters, so a name cannot rewrite the line it is shown on.
 */
export const DEVICE_NAME_PATTERN = '^(?=[\\s\\S]*\\S)[^\\u0000-\\u001f\\u007f\\uD800-\\uDFFF]*$'
export const DeviceName = Type.String({ minLength: 1, maxLength: 64, pattern: DEVICE_NAME_PATTERN })

/** One signed-in device of yours, as `GET /sessions` shows it. */
export const SessionInfo = Strict({
  id: Id,
  /** The name the device gave when it signed in; null if it gave none. */
  deviceName: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  /** When the token was last used, to the minute. */
  lastUsedAt: Timestamp,
  /** The client address the token was last used from (as the relay sees it); null if unknown. */
  address: Type.Union([Type.String(), Type.Null()]),
  /** Whether this is the session of the request. */
  current: Type.Boolean(),
})
export type SessionInfo = Type.Static<typeof SessionInfo>

export const SessionListResponse = Strict({ sessions: Type.Array(SessionInfo) })
export type SessionListResponse = Type.Static<typeof SessionListResponse>
