import { HOUR_MS, type NotificationMute } from './mute'

/** A menu item as Electron's Menu.buildFromTemplate takes it (the subset the tray uses). */
export interface MenuItemSpec {
  id?: string
  label?: string
  type?: 'normal' | 'separator' | 'submenu'
  enabled?: boolean
  click?: () => void
  submenu?: MenuItemSpec[]
}

/** The parts of Electron's Tray the controller drives. */
export interface TrayLike<Image, Menu> {
  setImage(image: Image): void
  setToolTip(toolTip: string): void
  setContextMenu(menu: Menu | null): void
}

export interface TrayControllerOptions<Image, Menu> {
  tray: TrayLike<Image, Menu>
  buildMenu(template: MenuItemSpec[]): Menu
  icons: { normal: Image; unread: Image }
  mute: NotificationMute
  /** Shows and focuses the window. */
  open(): void
  /** Quits the app (the core is closed on the way out). */
  quit(): void
  /** "14:05": how the menu says until when notifications are muted. */
  formatTime?: (epochMs: number) => string
}

export function unreadLabel(total: number): string {
  return total === 1 ? '1 unread message' : `${total} unread messages`
}

/**
 * The tray icon, its tooltip and menu. The unread total shows as an icon variant and in the
 * tooltip on every OS (the taskbar/dock badge is platform by platform, see badge.ts).
 */
export class TrayController<Image, Menu> {
  readonly #options: TrayControllerOptions<Image, Menu>
  readonly #unsubscribe: () => void
  #unread = 0

  constructor(options: TrayControllerOptions<Image, Menu>) {
    this.#options = options
    this.#unsubscribe = options.mute.onChange(() => this.render())
    this.render()
  }

  get unread(): number {
    return this.#unread
  }

  setUnread(total: number): void {
    const next = Math.max(0, Math.floor(total))
    if (next === this.#unread) return
    this.#unread = next
    this.render()
  }

  tooltip(): string {
    const parts = ['Parley']
    if (this.#unread > 0) parts.push(unreadLabel(this.#unread))
    if (this.#options.mute.isMuted()) parts.push('notifications muted')
    return parts.join(' — ')
  }

  menuTemplate(): MenuItemSpec[] {
    const { mute, open, quit } = this.#options
    const until = mute.until
    const muteItems: MenuItemSpec[] =
      until === null
        ? [
            {
              id: 'mute',
              label: 'Mute notifications',
              type: 'submenu',
              submenu: [
                { id: 'mute-1h', label: 'For 1 hour', click: () => mute.muteFor(HOUR_MS) },
                { id: 'mute-8h', label: 'For 8 hours', click: () => mute.muteFor(8 * HOUR_MS) },
                { id: 'mute-forever', label: 'Until I turn them back on', click: () => mute.muteFor(null) },
              ],
            },
          ]
        : [
            {
              id: 'muted-until',
              label: Number.isFinite(until)
                ? `Notifications muted until ${this.#formatTime(until)}`
                : 'Notifications muted',
              enabled: false,
            },
            { id: 'unmute', label: 'Turn notifications back on', click: () => mute.unmute() },
          ]
    return [
      { id: 'open', label: this.#unread > 0 ? `Open Parley (${this.#unread})` : 'Open Parley', click: open },
      { type: 'separator' },
      ...muteItems,
      { type: 'separator' },
      { id: 'quit', label: 'Quit Parley', click: quit },
    ]
  }

  render(): void {
    const { tray, icons, buildMenu } = this.#options
    tray.setImage(this.#unread > 0 ? icons.unread : icons.normal)
    tray.setToolTip(this.tooltip())
    tray.setContextMenu(buildMenu(this.menuTemplate()))
  }

  dispose(): void {
    this.#unsubscribe()
  }

  #formatTime(epochMs: number): string {
    if (this.#options.formatTime) return this.#options.formatTime(epochMs)
    return new Date(epochMs).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
  }
}
