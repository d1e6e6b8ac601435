import type { BridgeMethod, BridgeParams, BridgeValue } from '@parley/shared'
import { BridgeFailure } from '../errors'
import type { Bridge } from '.'

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
