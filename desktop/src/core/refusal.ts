import type { BridgeError, Result } from '@parley/shared'

/** A refusal with a bridge error code, thrown inside a handler and returned as a Result by the service. */
export class Refusal extends Error {
  constructor(readonly error: BridgeError) {
    super(error.message)
  }
}

export const refuse = (code: BridgeError['code'], message: string): never => {
  throw new Refusal({ code, message })
}

/** Calls that need the relay: a network failure reads as `offline` to the renderer. */
export async function online<T>(call: Promise<Result<T>> | Result<T>): Promise<T> {
  const result = await call
  if (result.ok) return result.value
  if (result.error.code === 'network') refuse('offline', result.error.message)
  throw new Refusal(result.error)
}
