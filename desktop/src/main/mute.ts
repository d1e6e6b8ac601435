export const HOUR_MS = 60 * 60 * 1000

/**
 * Do-not-disturb from the tray: notifications are off for a while, or until turned back on. Kept
 * in memory only, like a phone's "mute for an hour": a restart brings notifications back.
 */
export class NotificationMute {
  /** Epoch ms; Infinity for "until turned back on"; null when not muted. */
  #until: number | null = null
  #timer: NodeJS.Timeout | undefined
  readonly #clock: () => number
  readonly #listeners = new Set<() => void>()

  constructor(clock: () => number = Date.now) {
    this.#clock = clock
  }

  get until(): number | null {
    if (this.#until !== null && this.#until <= this.#clock()) this.#until = null
    return this.#until
  }

  isMuted(): boolean {
    return this.until !== null
  }

  /** Mutes for `ms`, or until `unmute` when null. */
  muteFor(ms: number | null): void {
    this.#set(ms === null ? Number.POSITIVE_INFINITY : this.#clock() + ms)
  }

  unmute(): void {
    this.#set(null)
  }

  /** Called when muting starts, ends (also by itself, when the time is up) or changes. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  dispose(): void {
    clearTimeout(this.#timer)
    this.#listeners.clear()
  }

  #set(until: number | null): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#until = until
    if (until !== null && Number.isFinite(until)) {
      // The tray shows "muted until ..."; it must change back when the time is up.
      this.#timer = setTimeout(() => this.#set(null), Math.max(0, until - this.#clock()))
      this.#timer.unref?.()
    }
    for (const listener of this.#listeners) listener()
  }
}
