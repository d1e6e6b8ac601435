import type { ConversationKey } from '@parley/shared'
import type { Emit } from './options'

/**
 * Who is typing to this account, per conversation and person. The relay does not promise a `false`: a peer who goes silent
 * stops "typing" by itself after `expiryMs`.
 */
export class TypingTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #emit: Emit
  readonly #expiryMs: number

  constructor(emit: Emit, expiryMs: number) {
    this.#emit = emit
    this.#expiryMs = expiryMs
  }

  received(conversation: ConversationKey, userId: number, typing: boolean): void {
    const key = `${conversation} ${userId}`
    clearTimeout(this.#timers.get(key))
    this.#timers.delete(key)
    if (typing) {
      this.#timers.set(
        key,
        setTimeout(() => {
          this.#timers.delete(key)
          this.#emit('typing.changed', { conversation, userId, typing: false })
        }, this.#expiryMs),
      )
    }
    this.#emit('typing.changed', { conversation, userId, typing })
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer)
  }
}
