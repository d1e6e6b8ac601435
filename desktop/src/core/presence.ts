import type { BridgeParams } from '@parley/shared'
import type { Account } from './account'

type PresenceChoice = BridgeParams<'presence.set'>['status']

/**
 * What each window last asked for (`presence.set`), by the caller its transport names: the user is
 * online while any window says so, away once every one that spoke says away.
 */
export class WindowPresence {
  readonly #byWindow = new Map<string, PresenceChoice>()
  readonly #current: () => Account | null
  #presence: PresenceChoice = 'online'

  constructor(current: () => Account | null) {
    this.#current = current
  }

  /** The presence the windows want now (a newly signed-in account starts with it). */
  get wanted(): PresenceChoice {
    return this.#presence
  }

  set(caller: string, status: PresenceChoice): void {
    this.#byWindow.set(caller, status)
    this.#apply()
  }

  /** A window went away (a tab closed or reloaded): its presence no longer counts. */
  closed(caller: string): void {
    if (this.#byWindow.delete(caller)) this.#apply()
  }

  /** The windows' wishes combined; with none left, the last presence stands. */
  #apply(): void {
    if (this.#byWindow.size > 0) {
      this.#presence = [...this.#byWindow.values()].includes('online') ? 'online' : 'away'
    }
    this.#current()?.setPresence(this.#presence)
  }
}
