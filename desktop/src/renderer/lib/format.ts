const time = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' })
const weekday = new Intl.DateTimeFormat(undefined, { weekday: 'short' })
const shortDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' })
const longDate = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' })
const fullDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' })
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

const DAY = 86_400_000

function startOfDay(at: number): number {
  const d = new Date(at)
  d.setHours(0, 0, 0, 0)
  return d.getTime()
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b)
}

/** 14:05 today, Mon this week, 3 Jan before. For the sidebar. */
export function shortTime(at: number, now = Date.now()): string {
  const today = startOfDay(now)
  if (at >= today) return time.format(at)
  if (at >= today - 6 * DAY) return weekday.format(at)
  return shortDate.format(at)
}

/** 14:05 today; Mon, 14:05 this week; 3 Jan, 14:05 before. For times in a list (receipts). */
export function listTime(at: number, now = Date.now()): string {
  return at >= startOfDay(now) ? time.format(at) : `${shortTime(at, now)}, ${time.format(at)}`
}

export function clockTime(at: number): string {
  return time.format(at)
}

export function fullTime(at: number): string {
  return dateTime.format(at)
}

/** Today, Yesterday, Monday 3 March, or with the year when it is not this year. */
export function dayLabel(at: number, now = Date.now()): string {
  const today = startOfDay(now)
  const day = startOfDay(at)
  if (day === today) return 'Today'
  if (day === today - DAY) return 'Yesterday'
  if (new Date(at).getFullYear() === new Date(now).getFullYear()) return longDate.format(at)
  return fullDate.format(at)
}

/** "last seen 5 minutes ago" and friends, for the conversation header. */
export function lastSeen(at: number | null, now = Date.now()): string {
  if (at === null) return 'offline'
  const minutes = Math.floor((now - at) / 60_000)
  if (minutes < 1) return 'last seen just now'
  if (minutes < 60) return `last seen ${minutes} minute${minutes === 1 ? '' : 's'} ago`
  if (sameDay(at, now)) return `last seen today at ${time.format(at)}`
  if (sameDay(at, now - DAY)) return `last seen yesterday at ${time.format(at)}`
  return `last seen ${fullDate.format(at)}`
}

/** A stable colour for someone without a picture. */
export function avatarHue(id: number): number {
  return (id * 137) % 360
}

export function initials(first: string, last: string, username: string): string {
  const text = `${first.trim().charAt(0)}${last.trim().charAt(0)}`.toUpperCase()
  return text || username.charAt(0).toUpperCase()
}

export function isMac(): boolean {
  return /Mac|iPhone|iPad/.test(navigator.platform)
}

/** Ctrl or Cmd, whichever this OS uses for shortcuts. */
export function primaryModifier(event: KeyboardEvent | MouseEvent): boolean {
  return isMac() ? event.metaKey : event.ctrlKey
}

export function shortcutLabel(key: string): string {
  return isMac() ? `⌘${key}` : `Ctrl+${key}`
}

/** A size for people: 512 B, 3.4 KB, 12 MB, 1.2 GB (powers of 1000, as file managers mostly show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = bytes / 1000
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}
