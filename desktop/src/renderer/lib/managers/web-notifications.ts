import type { BridgeEventPayload, ConversationKey } from '@parley/shared'
import { displayName, notificationBody } from '@parley/shared/display'
import type { Bridge } from '../bridge'
import type { AppState } from './app.svelte'
import type { NotificationPermissionState } from './notification-permission.svelte'
import type { UiState } from './ui.svelte'

/**
 * Browser mode's notifications (Electron's shell shows native ones itself): the page's
 * Notification API, for a new message while the tab is in the background or shows another chat,
 * following the same settings (on/off, preview, muted chats). Permission is asked on your first
 * click after signing in, as browsers allow it only from a gesture; Settings says when the browser
 * blocks them, and offers to ask again while it has not decided.
 */
export function startWebNotifications(
  bridge: Bridge,
  app: AppState,
  ui: UiState,
  permission: NotificationPermissionState,
): void {
  if (typeof Notification === 'undefined') return
  const open = new Map<ConversationKey, Notification>()

  const ask = () => {
    if (Notification.permission === 'default' && app.session && app.settings?.notifications) {
      void permission.request()
    }
  }
  document.addEventListener('pointerdown', ask, { once: true })

  bridge.on('messages.received', (event: BridgeEventPayload<'messages.received'>) => {
    const settings = app.settings
    if (!settings?.notifications || Notification.permission !== 'granted') return
    if (settings.mutedConversations.includes(event.conversation)) return
    const looking = !document.hidden && document.hasFocus() && ui.conversation?.key === event.conversation
    if (looking) return
    open.get(event.conversation)?.close()
    // Worded as the Electron shell words its native ones.
    const notification = new Notification(displayName(event.sender, 'New message'), {
      body: notificationBody(event.message, event.count, settings.notificationPreview),
      tag: `parley-${event.conversation}`,
      silent: !settings.sound,
    })
    notification.onclick = () => {
      window.focus()
      void ui.open(event.conversation)
      notification.close()
    }
    open.set(event.conversation, notification)
  })

  // A conversation read (here or on another device) takes its notification away.
  bridge.on('unread.changed', ({ conversations }) => {
    const unread = new Set(conversations.map((c) => c.conversation))
    for (const [key, notification] of open) {
      if (!unread.has(key)) {
        notification.close()
        open.delete(key)
      }
    }
  })
}
