import type { MessageView } from '@parley/shared'
import type { ConversationState } from './managers/conversation.svelte'

const isPicture = (m: MessageView) => m.image !== null && m.deletedAt === null && m.kind !== 'event'

/**
 * The picture viewer's place among the pictures of the open conversation's loaded window, oldest
 * first. Stepping back past the oldest loaded one loads older messages first. A picture that
 * leaves the window (deleted meanwhile) stays shown, alone.
 */
export class PictureSteps {
  readonly #conversation: () => ConversationState | null
  #currentId: number
  #last: MessageView
  readonly #list: MessageView[]
  readonly #index: number

  constructor(conversation: () => ConversationState | null, first: MessageView) {
    this.#conversation = conversation
    this.#currentId = $state(first.localId)
    this.#last = $state.raw(first)
    this.#list = $derived((conversation()?.messages ?? []).filter(isPicture))
    this.#index = $derived(this.#list.findIndex((m) => m.localId === this.#currentId))
  }

  get current(): MessageView {
    return this.#list[this.#index] ?? this.#last
  }
  /** Its place (from 0) and how many there are; null when older ones are not loaded (the count is not known). */
  get position(): { index: number; total: number } | null {
    if (this.#index < 0 || this.#conversation()?.hasOlder) return null
    return { index: this.#index, total: this.#list.length }
  }
  get hasPrevious(): boolean {
    return this.#index > 0 || (this.#index === 0 && !!this.#conversation()?.hasOlder)
  }
  get hasNext(): boolean {
    return this.#index >= 0 && this.#index < this.#list.length - 1
  }

  /** The pictures either side, to fetch before they are asked for. */
  neighbours(): MessageView[] {
    if (this.#index < 0) return []
    return [this.#list[this.#index - 1], this.#list[this.#index + 1]].filter((m) => m !== undefined)
  }

  /** Moves to the previous (-1) or next (1) picture; false when there is none. */
  async step(by: -1 | 1): Promise<boolean> {
    const conversation = this.#conversation()
    if (by === -1 && this.#index === 0 && conversation?.hasOlder) {
      const before = this.#list.length
      await conversation.loadOlder()
      if (this.#list.length === before) return false
    }
    const next = this.#index < 0 ? undefined : this.#list[this.#index + by]
    if (!next) return false
    this.#currentId = next.localId
    this.#last = next
    return true
  }
}
