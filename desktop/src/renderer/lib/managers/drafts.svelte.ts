import type { ConversationKey, ConversationView } from '@parley/shared'
import { MAX_DRAFT_LENGTH } from '@parley/shared/limits'
import { SvelteMap } from 'svelte/reactivity'
import type { Bridge } from '../bridge'
import { call } from '../bridge/call'

/**
 * Each chat's unsent text: kept in the core (so it outlives the window) and here for the sidebar,
 * which shows it in place of the last message.
 */
export class DraftsState {
  readonly #bridge: Bridge
  readonly #texts = new SvelteMap<ConversationKey, string>()

  constructor(bridge: Bridge) {
    this.#bridge = bridge
  }

  /** The draft the sidebar shows for `conversation`, or null when there is none worth showing. */
  text(conversation: ConversationKey): string | null {
    return this.#texts.get(conversation)?.trim() || null
  }

  /** The drafts the conversation list came with (the core keeps one per conversation). */
  seed(conversations: readonly ConversationView[]): void {
    this.#texts.clear()
    for (const c of conversations) if (c.draft?.text.trim()) this.#texts.set(c.key, c.draft.text)
  }

  /** The core's copy, read when a composer opens (the sidebar's may be older than another window's). */
  async load(conversation: ConversationKey): Promise<string | null> {
    const draft = await call(this.#bridge, 'drafts.get', { conversation })
    return draft?.text ?? null
  }

  /** Saves at once here and in the core; an empty text removes the draft. */
  save(conversation: ConversationKey, value: string): void {
    const text = value.slice(0, MAX_DRAFT_LENGTH)
    if (text.trim()) this.#texts.set(conversation, text)
    else this.#texts.delete(conversation)
    void this.#bridge.invoke('drafts.set', { conversation, text })
  }
}
