import type { BridgeError } from '@parley/shared'

/** A bridge call that failed, thrown by the managers so UI code can use try/catch around several steps. */
export class BridgeFailure extends Error {
  constructor(readonly error: BridgeError) {
    super(error.message)
  }
  get code() {
    return this.error.code
  }
}

/** A message for people: the bridge's own text, which the relay and core write for users. */
export function describeError(error: unknown): string {
  if (error instanceof BridgeFailure) {
    if (error.code === 'offline' || error.code === 'network')
      return 'You are offline. Try again once connected.'
    return error.message
  }
  return error instanceof Error ? error.message : String(error)
}
