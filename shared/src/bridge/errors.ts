import Type from 'typebox'
import { type ErrorCode, errorCodes } from '../protocol/errors'

/**
 * Errors that the desktop core itself returns across the bridge. Relay error codes
 * (`contact_required`, `rate_limited`, ...) pass through unchanged, so the renderer branches on one
 * union of codes whichever side refused.
 */
export const localErrorCodes = {
  not_signed_in: 'No account is signed in on this device.',
  already_signed_in: 'An account is signed in already; sign out first.',
  offline: 'The relay cannot be reached right now, and this needs it.',
  invalid_params: "The call's parameters do not match its schema.",
  unknown_method: 'The bridge has no such method.',
  not_found: 'No such message, conversation or item on this device.',
  not_retryable: 'Only a message or change that failed can be retried.',
  network: 'The relay could not be reached (refused, reset or timed out).',
  invalid_response: 'The relay answered with something this version does not understand.',
  not_a_relay: 'Something answers at the relay address, but it is not a Parley relay.',
  store_too_new: 'The local database was written by a newer version of Parley.',
  insecure_relay:
    'The relay address is plain http:// to another computer: passwords and messages would cross the network unencrypted. Use https://, or confirm (insecureRelayConfirmed).',
  internal: 'A fault in the app; the details are in its log.',
  unsupported:
    'This app (its shell) cannot do that; the caller has another way (browser mode has no save dialog).',
  save_failed:
    'The file could not be written where it was to be saved (no room, no permission, a folder gone).',
  app_unreachable:
    "The page lost its link to the Parley app (browser mode's host): the call may or may not have run.",
} as const

export type LocalErrorCode = keyof typeof localErrorCodes
export type BridgeErrorCode = ErrorCode | LocalErrorCode

const allCodes = [...Object.keys(errorCodes), ...Object.keys(localErrorCodes)] as BridgeErrorCode[]

/** Derived from both tables, so a new relay code is a bridge code without another list to edit. */
export const BridgeErrorCodeSchema = Type.Unsafe<BridgeErrorCode>(
  Type.Union(allCodes.map((code) => Type.Literal(code))),
)

export const BridgeError = Type.Object(
  { code: BridgeErrorCodeSchema, message: Type.String() },
  { additionalProperties: false },
)
export interface BridgeError {
  code: BridgeErrorCode
  message: string
}

export function isBridgeErrorCode(value: unknown): value is BridgeErrorCode {
  return (
    typeof value === 'string' && (Object.hasOwn(errorCodes, value) || Object.hasOwn(localErrorCodes, value))
  )
}

/** What every bridge call resolves to: never a throw across the boundary. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: BridgeError }
