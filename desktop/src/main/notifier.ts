import {
  type BridgeEventPayload,
  type ConversationKey,
  displayName,
  type MessageView,
  notificationBody,
  type Settings,
  type UnreadCounts,
  type UserView,
} from '@parley/shared'

/** What the notifier asks of a native notification (Electron's Notification, adapted in index.ts). */
export interface NotificationHandle {
  show(): void
  close(): void
  onClick(listener: () => void): void
  /** The text typed into an inline reply (macOS, Windows). */
  onReply(listener: (text: string) => void): void
  onClose(listener: () => void): void
}

export interface NotificationSpec<Image> {
  title: string
  body: string
  silent: boolean
  icon?: Image
  hasReply: boolean
  replyPlaceholder?: string
  /** Groups a conversation's notifications (macOS thread, Windows group) so they can be withdrawn together. */
  groupId: string
}

export interface WindowAttention {
  visible: boolean
  focused: boolean
}

export interface NotifierDeps<Image> {
  platform: NodeJS.Platform
  create(spec: NotificationSpec<Image>): NotificationHandle
  settings(): Settings
  /** The tray's do-not-disturb. */
  isMuted(): boolean
  window(): WindowAttention
  /** The conversation the window shows (`core.viewing`). */
  viewing(): ConversationKey | null
  /** The sender's picture, or null (no picture, offline, too slow). */
  avatar(imageId: string): Promise<Image | null>
  /** Shows the window and that conversation. */
  open(conversation: ConversationKey, localId: number): void
  /** Sends an inline reply. */
  reply(conversation: ConversationKey, text: string): Promise<void>
  /** Clears delivered notifications of a group that no handle is kept for (macOS Notification Center). */
  removeGroup?(groupId: string): void
  /** How long to wait for an avatar before notifying without one. */
  avatarTimeoutMs?: number
}

/** Who a notification is from (an unknown sender is just "New message"). */
export const senderName = (sender: UserView | null): string => displayName(sender, 'New message')

export { notificationBody }

export const conversationGroup = (conversation: ConversationKey) => `conversation-${conversation}`

/**
 * Notification servers on Linux read the body (and some, such as dunst, the summary too) as
 * markup, and Electron hands both to libnotify as they are: a contact could set a name or send a
 * text with `<a href>` or `<b>` and have it drawn as markup, or blank it with a stray `&`. Escaped,
 * they show as typed.
 */
export const escapeNotificationMarkup = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

/** Inline reply is offered where Electron supports it. */
export const supportsInlineReply = (platform: NodeJS.Platform) =>
  platform === 'darwin' || platform === 'win32'

/**
 * Native notifications for new messages: shown when the user cannot be looking at them (window
 * hidden or unfocused, or another conversation open), within the settings and the tray's mute;
 * one per conversation at a time, withdrawn once the conversation has nothing unread.
 */
export class Notifier<Image> {
  readonly #deps: NotifierDeps<Image>
  readonly #shown = new Map<ConversationKey, Set<NotificationHandle>>()
  /** Conversations with unread messages at the last count (their notifications may outlive a restart). */
  #unread = new Set<ConversationKey>()

  constructor(deps: NotifierDeps<Image>) {
    this.#deps = deps
  }

  /** Whether a new message in this conversation should notify now. */
  shouldNotify(
    conversation: ConversationKey,
    message: MessageView,
    mentionsMe = message.mentionsMe,
  ): boolean {
    const settings = this.#deps.settings()
    if (!settings.notifications || this.#deps.isMuted()) return false
    // A mention of you notifies even in a muted conversation.
    if (message.mine || (settings.mutedConversations.includes(conversation) && !mentionsMe)) return false
    const window = this.#deps.window()
    return !(window.visible && window.focused && this.#deps.viewing() === conversation)
  }

  async received(event: BridgeEventPayload<'messages.received'>): Promise<void> {
    const { conversation, count, message, sender } = event
    const mentioned = event.mentionsMe
    if (!this.shouldNotify(conversation, message, mentioned)) return
    const icon = sender?.avatarImageId ? await this.#avatar(sender.avatarImageId) : null
    // The avatar may take a moment: the user may have opened the conversation meanwhile.
    if (!this.shouldNotify(conversation, message, mentioned)) return
    const settings = this.#deps.settings()
    const hasReply = supportsInlineReply(this.#deps.platform)
    const asText = (text: string) => (this.#deps.platform === 'linux' ? escapeNotificationMarkup(text) : text)
    const handle = this.#deps.create({
      // A group names itself and the sender; a 1:1 conversation, the sender.
      title: asText(
        conversation.startsWith('group:') ? `${senderName(sender)} in ${event.title}` : senderName(sender),
      ),
      body: asText(notificationBody(message, count, settings.notificationPreview)),
      silent: !settings.sound,
      ...(icon && { icon }),
      hasReply,
      ...(hasReply && { replyPlaceholder: 'Reply…' }),
      groupId: conversationGroup(conversation),
    })
    // One at a time per conversation: the newest says what is new, older ones would only pile up.
    // (Closed by handle, not by group: a group removal could also catch the one about to show.)
    this.#close(conversation)
    const shown = new Set([handle])
    this.#shown.set(conversation, shown)
    const forget = () => {
      shown.delete(handle)
      if (shown.size === 0 && this.#shown.get(conversation) === shown) this.#shown.delete(conversation)
    }
    handle.onClick(() => {
      forget()
      this.#deps.open(conversation, message.localId)
    })
    handle.onReply((text) => {
      forget()
      const trimmed = text.trim()
      if (trimmed) void this.#deps.reply(conversation, trimmed)
    })
    // On Windows a toast "closes" when it times out but lives on in Action Center, where it can
    // still be clicked or must still be withdrawn: keep its handle there.
    if (this.#deps.platform !== 'win32') handle.onClose(forget)
    handle.show()
  }

  /** Withdraws the notifications of conversations with nothing unread left (read here or elsewhere). */
  unreadChanged(counts: UnreadCounts): void {
    const unread = new Set(counts.conversations.filter((c) => c.count > 0).map((c) => c.conversation))
    for (const conversation of new Set([...this.#shown.keys(), ...this.#unread])) {
      if (!unread.has(conversation)) this.withdraw(conversation)
    }
    this.#unread = unread
  }

  /** Closes a conversation's notifications, also those delivered before a restart (macOS). */
  withdraw(conversation: ConversationKey): void {
    this.#close(conversation)
    this.#deps.removeGroup?.(conversationGroup(conversation))
  }

  /** Conversations that have a notification on screen (or in the notification centre). */
  get showing(): ConversationKey[] {
    return [...this.#shown.keys()]
  }

  dispose(): void {
    for (const conversation of [...this.#shown.keys()]) this.withdraw(conversation)
  }

  #close(conversation: ConversationKey): void {
    const shown = this.#shown.get(conversation)
    this.#shown.delete(conversation)
    for (const handle of shown ?? []) handle.close()
  }

  async #avatar(imageId: string): Promise<Image | null> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.#deps.avatarTimeoutMs ?? 1500)
    })
    try {
      return await Promise.race([this.#deps.avatar(imageId).catch(() => null), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}
