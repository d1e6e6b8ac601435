/** Where the core reports what a person debugging it would want; the shell decides where that goes. */
export interface Logger {
  info(message: string, details?: Record<string, unknown>): void
  warn(message: string, details?: Record<string, unknown>): void
  error(message: string, details?: Record<string, unknown>): void
}

export const consoleLogger: Logger = {
  info: () => undefined,
  warn: (message, details) => console.warn(`parley core: ${message}`, details ?? ''),
  error: (message, details) => console.error(`parley core: ${message}`, details ?? ''),
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined }

/** Delays and timeouts of the network side; tests shorten them, nothing else should need to. */
export interface Timing {
  /** How long to wait for the ack of a send, edit, receipt... before trying again. */
  ackTimeoutMs: number
  /** How long to wait for one page of the feed. */
  syncTimeoutMs: number
  restTimeoutMs: number
  reconnectDelayMs: number
  reconnectDelayMaxMs: number
  /** Outbox backoff after a transient failure: base × 2^(attempts − 1), capped, with jitter. */
  retryBaseMs: number
  retryMaxMs: number
  /** A peer's `typing: true` without a repeat ends after this. */
  typingExpiryMs: number
  /**
   * A group's delivered receipt waits this long in the outbox, gathering the messages that arrive
   * meanwhile into one receipt. The group hears its "everyone" markers at most once a second
   * anyway, and in a big busy group each member would otherwise send a receipt for nearly every
   * message (a 1,000-member group: up to 1,000 writes a message). Read receipts and 1:1 receipts
   * go at once.
   */
  groupDeliveredHoldMs: number
}

export const defaultTiming: Timing = {
  ackTimeoutMs: 10_000,
  syncTimeoutMs: 30_000,
  restTimeoutMs: 15_000,
  reconnectDelayMs: 1000,
  reconnectDelayMaxMs: 30_000,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  typingExpiryMs: 6000,
  groupDeliveredHoldMs: 1000,
}

export function backoff(attempts: number, baseMs: number, maxMs: number): number {
  const exact = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1))
  return Math.round(exact * (0.5 + Math.random()))
}
