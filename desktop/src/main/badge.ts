import { unreadLabel } from './tray'

/**
 * Where each OS shows an unread count on the app itself. Only the one for the running platform is
 * called; the others may be left out.
 */
export interface BadgeTargets<Image> {
  platform: NodeJS.Platform
  /** macOS: `app.dock.setBadge`. */
  setDockBadge?(text: string): void
  /** Windows: the taskbar button's overlay (`BrowserWindow.setOverlayIcon`), null to clear. */
  setOverlayIcon?(image: Image | null, description: string): void
  /** Linux: `app.setBadgeCount` (Unity launcher API: Ubuntu Dock, KDE, some others). */
  setBadgeCount?(count: number): boolean
  /** The Windows overlay: a small dot (the taskbar has no room for digits at 16 px). */
  overlay: Image
}

/** The dock's text: nothing at zero, then the count, capped so it stays a badge. */
export function badgeText(count: number): string {
  if (count <= 0) return ''
  return count > 99 ? '99+' : String(count)
}

export function applyBadge<Image>(targets: BadgeTargets<Image>, total: number): void {
  const count = Math.max(0, Math.floor(total))
  switch (targets.platform) {
    case 'darwin':
      targets.setDockBadge?.(badgeText(count))
      return
    case 'win32':
      targets.setOverlayIcon?.(count > 0 ? targets.overlay : null, count > 0 ? unreadLabel(count) : '')
      return
    default:
      targets.setBadgeCount?.(count)
  }
}
