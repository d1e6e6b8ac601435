import type { SearchHit } from '@parley/shared'
import type { Bridge } from '../bridge'

/** How long the query must rest before it is searched: typing does not search every key. */
const SETTLE_MS = 150

/** Message search as you type (the sidebar's box): the hits for the latest query only. */
export class SearchState {
  readonly #bridge: Bridge
  #hits = $state<SearchHit[]>([])
  #searching = $state(false)
  #query = ''
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(bridge: Bridge) {
    this.#bridge = bridge
  }

  get hits() {
    return this.#hits
  }
  /** A query is waiting to be searched or being searched: "nothing found" would be premature. */
  get searching() {
    return this.#searching
  }

  /** Searches `q` a moment after the last change; an answer to an older query is dropped. */
  find(q: string): void {
    clearTimeout(this.#timer)
    this.#query = q
    if (!q) {
      this.#hits = []
      this.#searching = false
      return
    }
    this.#searching = true
    this.#timer = setTimeout(async () => {
      const result = await this.#bridge.invoke('search.query', { q: q.slice(0, 200), limit: 30 })
      if (q !== this.#query) return
      this.#hits = result.ok ? result.value : []
      this.#searching = false
    }, SETTLE_MS)
  }
}
