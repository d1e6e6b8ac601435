import type { BridgeError, BridgeMethod, BridgeParams, BridgeValue } from '@parley/shared'
import type { Bridge } from './bridge'

/** A bridge call that failed, thrown by `call` so UI code can use try/catch around several steps. */
export class BridgeFailure extends Error {
  constructor(readonly error: BridgeError) {
    super(error.message)
  }
  get code() {
    return this.error.code
  }
}

/** Invoke and unwrap: the value, or a thrown BridgeFailure carrying the bridge's error. */
export async function call<M extends BridgeMethod>(
  bridge: Bridge,
  method: M,
  params: BridgeParams<M>,
): Promise<BridgeValue<M>> {
  const result = await bridge.invoke(method, params)
  if (!result.ok) throw new BridgeFailure(result.error)
  return result.value as BridgeValue<M>
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
