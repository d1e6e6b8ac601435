/**
 * At most `limit` tasks at a time; the rest wait in order. Image decoding goes through one of
 * these: sharp runs each operation on a libuv pool thread, the same pool argon2 hashes passwords
 * on, so unbounded decoding of a few large uploads would leave sign-ins waiting behind them.
 */
export class DecodeQueue {
  readonly #limit: number
  #running = 0
  readonly #waiting: (() => void)[] = []

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error('a decode queue needs a limit of at least 1')
    this.#limit = limit
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    else this.#running += 1
    try {
      return await task()
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.#waiting.shift()
      if (next) next()
      else this.#running -= 1
    }
  }

  /** Tasks running and waiting, for tests and figures. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.length }
  }
}
