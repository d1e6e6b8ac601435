export type NotificationAccess = NotificationPermission | 'unsupported'

/**
 * Whether the browser lets this page show notifications (browser mode; Electron's shell shows
 * native ones and needs no permission). The browser can change it behind the page's back, in its
 * site settings: it is read again when the browser says so, and when the window comes back to the
 * front, as it does after a visit to those settings.
 */
export class NotificationPermissionState {
  #access = $state<NotificationAccess>(current())

  constructor() {
    if (typeof Notification === 'undefined') return
    const refresh = () => this.refresh()
    window.addEventListener('focus', refresh)
    document.addEventListener('visibilitychange', refresh)
    navigator.permissions?.query({ name: 'notifications' }).then(
      (status) => status.addEventListener('change', refresh),
      // Some browsers cannot query this permission: the other two signals remain.
      () => undefined,
    )
  }

  get access(): NotificationAccess {
    return this.#access
  }

  refresh(): void {
    this.#access = current()
  }

  /** Asks the browser, which allows it only from a user gesture (a click, a key). */
  async request(): Promise<void> {
    if (current() !== 'default') return this.refresh()
    try {
      await Notification.requestPermission()
    } finally {
      this.refresh()
    }
  }
}

function current(): NotificationAccess {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission
}
