import type { Emit } from './options'

/**
 * Who is typing to this account. The relay does not promise a `false`: a peer who goes silent
 * stops "typing" by itself after `expiryMs`.
 */
export class TypingTimers {
  readonly #timers = new Map<number, NodeJS.Timeout>()
  readonly #emit: Emit
  readonly #expiryMs: number

  constructor(emit: Emit, expiryMs: number) {
    this.#emit = emit
    this.#expiryMs = expiryMs
  }

  received(userId: number, typing: boolean): void {
    clearTimeout(this.#timers.get(userId))
    this.#timers.delete(userId)
    if (typing) {
      this.#timers.set(
        userId,
        setTimeout(() => {
          this.#timers.delete(userId)
          this.#emit('typing.changed', { userId, typing: false })
        }, this.#expiryMs),
      )
    }
    this.#emit('typing.changed', { userId, typing })
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
  }
}
