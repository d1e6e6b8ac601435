import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

export interface WindowState {
  /** The window's normal (not maximized) bounds when it was last moved or resized. */
  bounds: Rect | null
  maximized: boolean
}

/** What BrowserWindow takes: no position means "centred on the primary display". */
export interface WindowPlacement {
  x?: number
  y?: number
  width: number
  height: number
  maximized: boolean
}

export const DEFAULT_SIZE = { width: 1100, height: 720 }
export const MIN_SIZE = { width: 640, height: 480 }

const isDimension = (value: unknown, min: number): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= 100_000
const isCoordinate = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 100_000

/** The saved state, or the defaults when the file is missing, unreadable or not what we wrote. */
export function readWindowState(file: string): WindowState {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return { bounds: null, maximized: false }
  }
  const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>
  const b = (typeof record.bounds === 'object' && record.bounds !== null ? record.bounds : {}) as Record<
    string,
    unknown
  >
  const bounds =
    isCoordinate(b.x) && isCoordinate(b.y) && isDimension(b.width, 1) && isDimension(b.height, 1)
      ? { x: b.x, y: b.y, width: b.width, height: b.height }
      : null
  return { bounds, maximized: record.maximized === true }
}

export function writeWindowState(file: string, state: WindowState): void {
  mkdirSync(path.dirname(file), { recursive: true })
  // Written aside and renamed: a crash mid-write leaves the previous state, not half a file.
  const temporary = `${file}.tmp`
  writeFileSync(temporary, JSON.stringify(state))
  renameSync(temporary, file)
}

const overlap = (a: Rect, b: Rect): number =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y))

const clamp = (value: number, min: number, max: number) => Math.min(Math.max(value, min), max)

/**
 * Where to open the window: the saved bounds moved and shrunk to lie wholly inside the display
 * (work area) they overlap most, so a window saved on a monitor that is gone, or at a size the
 * screen no longer has, still opens fully visible. Bounds that overlap no display are dropped: the
 * window opens centred on the primary one (`workAreas[0]`) at the saved size, shrunk to fit.
 */
export function placeWindow(state: WindowState, workAreas: readonly Rect[]): WindowPlacement {
  const primary = workAreas[0]
  const wanted = state.bounds ?? { x: 0, y: 0, ...DEFAULT_SIZE }
  let best: Rect | undefined
  let bestOverlap = 0
  if (state.bounds) {
    for (const area of workAreas) {
      const shared = overlap(state.bounds, area)
      if (shared > bestOverlap) {
        best = area
        bestOverlap = shared
      }
    }
  }
  const area = best ?? primary
  const fit = (size: number, room: number | undefined, min: number) =>
    room === undefined ? Math.max(size, min) : Math.max(Math.min(size, room), Math.min(min, room))
  const width = fit(wanted.width, area?.width, MIN_SIZE.width)
  const height = fit(wanted.height, area?.height, MIN_SIZE.height)
  if (!best) return { width, height, maximized: state.maximized }
  return {
    x: clamp(wanted.x, best.x, best.x + best.width - width),
    y: clamp(wanted.y, best.y, best.y + best.height - height),
    width,
    height,
    maximized: state.maximized,
  }
}

/** The parts of a BrowserWindow the keeper reads. */
export interface TrackedWindow {
  getNormalBounds(): Rect
  isMaximized(): boolean
  isFullScreen(): boolean
  on(event: 'resize' | 'move' | 'maximize' | 'unmaximize' | 'close', listener: () => void): unknown
}

/**
 * Saves a window's placement as it changes (debounced: a drag emits hundreds of moves) and once more
 * when it closes. Full screen is not a placement to come back to, so it saves the bounds under it.
 */
export function keepWindowState(
  window: TrackedWindow,
  file: string,
  options: { debounceMs?: number; onError?: (error: unknown) => void } = {},
): { flush(): void } {
  let timer: NodeJS.Timeout | undefined
  const save = () => {
    clearTimeout(timer)
    timer = undefined
    try {
      writeWindowState(file, {
        bounds: window.getNormalBounds(),
        maximized: window.isMaximized() && !window.isFullScreen(),
      })
    } catch (error) {
      options.onError?.(error)
    }
  }
  const later = () => {
    clearTimeout(timer)
    timer = setTimeout(save, options.debounceMs ?? 500)
  }
  for (const event of ['resize', 'move', 'maximize', 'unmaximize'] as const) window.on(event, later)
  window.on('close', save)
  return { flush: save }
}
