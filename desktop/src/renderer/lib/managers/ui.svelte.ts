import type { ConversationKey, MessageView } from '@parley/shared'
import type { Bridge } from '../bridge'
import { ConversationState } from './conversation.svelte'
import type { OutgoingQueue } from './outgoing.svelte'

export type Dialog =
  | { kind: 'settings' }
  | { kind: 'profile' }
  | { kind: 'contact'; userId: number }
  | { kind: 'add-contact' }
  | { kind: 'switcher' }
  | { kind: 'history'; localId: number }
  | { kind: 'picture'; message: MessageView }
  | { kind: 'message-info'; message: MessageView }
  | { kind: 'new-group' }
  | { kind: 'join-group'; code?: string }
  | { kind: 'group-info' }
  | { kind: 'seen-by'; message: MessageView }
  | { kind: 'forward'; message: MessageView }
  /** A message link led nowhere this account can see. */
  | { kind: 'message-unavailable' }

/**
 * What the window shows: the open conversation, the open dialog, the sidebar's query. Navigation
 * lives here so shortcuts, search results and the shell (app.openConversation) all go through it.
 */
export class UiState {
  readonly #bridge: Bridge
  readonly #outgoing: OutgoingQueue
  #conversation = $state<ConversationState | null>(null)
  dialog = $state<Dialog | null>(null)
  /** The sidebar's filter and message search box. */
  query = $state('')
  /** Bumped to put focus in the sidebar's search box (Ctrl/Cmd+F). */
  focusSearchSignal = $state(0)
  /** Bumped to put focus in the composer. */
  focusComposerSignal = $state(0)
  /** The link under the pointer or with the focus (its full address, where it is): shown before it opens. */
  linkHint = $state.raw<{ href: string; anchor: DOMRect } | null>(null)

  constructor(bridge: Bridge, outgoing: OutgoingQueue) {
    this.#bridge = bridge
    this.#outgoing = outgoing
    bridge.on('app.openConversation', ({ conversation }) => void this.open(conversation))
    bridge.on('app.openJoin', ({ code }) => {
      this.dialog = { kind: 'join-group', code }
    })
    bridge.on('app.openMessage', ({ messageId }) => void this.openMessage(messageId))
    bridge.onReconnect(() => {
      const open = this.#conversation
      if (open) void open.open()
    })
  }

  get conversation() {
    return this.#conversation
  }

  /** Opens a conversation at its newest messages, or at `at` (a search result). */
  async open(key: ConversationKey, at?: MessageView): Promise<void> {
    const current = this.#conversation
    if (current?.key === key && !at) {
      this.focusComposerSignal++
      return
    }
    current?.close()
    const next = new ConversationState(this.#bridge, this.#outgoing, key)
    this.#conversation = next
    this.dialog = null
    void this.#bridge.invoke('app.setViewing', { conversation: key })
    await next.open(at)
    this.focusComposerSignal++
  }

  /**
   * Shows a message by its relay id (a `parley://message/<id>` link) in its conversation, marked
   * for a moment, as a reply's quote does: where it is loaded already, else the window is read
   * around it. A message this device does not have for you says so.
   */
  async openMessage(messageId: number): Promise<void> {
    const found = await this.#bridge.invoke('messages.locate', { messageId })
    const message = found.ok ? found.value : null
    if (!message) {
      this.dialog = { kind: 'message-unavailable' }
      return
    }
    const current = this.#conversation
    if (current?.key === message.conversation) {
      this.dialog = null
      await current.jumpTo(message)
    } else await this.open(message.conversation, message)
  }

  closeConversation(): void {
    this.#conversation?.close()
    this.#conversation = null
    void this.#bridge.invoke('app.setViewing', { conversation: null })
  }
}
