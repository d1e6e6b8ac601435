import { EventEmitter } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_SIZE,
  keepWindowState,
  MIN_SIZE,
  placeWindow,
  type Rect,
  readWindowState,
  writeWindowState,
} from '../../src/main/window-state'

const primary: Rect = { x: 0, y: 0, width: 1920, height: 1040 }
const right: Rect = { x: 1920, y: 0, width: 1280, height: 1000 }
const dirs: string[] = []
const tempFile = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-window-'))
  dirs.push(dir)
  return path.join(dir, 'window-state.json')
}
afterEach(() => {
  vi.useRealTimers()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('window placement', () => {
  it('a window saved on a visible display opens where it was', () => {
    const bounds = { x: 100, y: 80, width: 1000, height: 700 }
    expect(placeWindow({ bounds, maximized: false }, [primary, right])).toEqual({
      ...bounds,
      maximized: false,
    })
    const onRight = { x: 2000, y: 50, width: 900, height: 600 }
    expect(placeWindow({ bounds: onRight, maximized: true }, [primary, right])).toEqual({
      ...onRight,
      maximized: true,
    })
  })

  it('a window half off its display is pulled back inside it', () => {
    const placed = placeWindow({ bounds: { x: 1500, y: 900, width: 1000, height: 700 }, maximized: false }, [
      primary,
    ])
    expect(placed).toEqual({ x: 920, y: 340, width: 1000, height: 700, maximized: false })
  })

  it('a window saved on a monitor that is gone opens centred on the primary display', () => {
    const placed = placeWindow({ bounds: { x: 4000, y: 100, width: 900, height: 600 }, maximized: false }, [
      primary,
    ])
    expect(placed).toEqual({ width: 900, height: 600, maximized: false })
  })

  it('a window larger than its display is shrunk to fit', () => {
    const placed = placeWindow({ bounds: { x: 1950, y: 10, width: 3000, height: 2000 }, maximized: false }, [
      primary,
      right,
    ])
    expect(placed).toEqual({ x: 1920, y: 0, width: 1280, height: 1000, maximized: false })
  })

  it('no saved state: the default size, centred; never below the minimum unless the screen is smaller', () => {
    expect(placeWindow({ bounds: null, maximized: false }, [primary])).toEqual({
      ...DEFAULT_SIZE,
      maximized: false,
    })
    const tiny = placeWindow({ bounds: { x: 0, y: 0, width: 100, height: 100 }, maximized: false }, [primary])
    expect(tiny).toMatchObject({ width: MIN_SIZE.width, height: MIN_SIZE.height })
    const small = placeWindow({ bounds: null, maximized: false }, [{ x: 0, y: 0, width: 600, height: 400 }])
    expect(small).toMatchObject({ width: 600, height: 400 })
  })
})

describe('window state file', () => {
  it('round-trips, and a missing or damaged file reads as no state', () => {
    const file = tempFile()
    expect(readWindowState(file)).toEqual({ bounds: null, maximized: false })
    writeWindowState(file, { bounds: { x: -50, y: 20, width: 800, height: 600 }, maximized: true })
    expect(readWindowState(file)).toEqual({
      bounds: { x: -50, y: 20, width: 800, height: 600 },
      maximized: true,
    })
    writeFileSync(file, '{"bounds": {"x": "1", "y": 0, "width": 800, "height": 600}, "maximized": "yes"}')
    expect(readWindowState(file)).toEqual({ bounds: null, maximized: false })
    writeFileSync(file, 'not json')
    expect(readWindowState(file)).toEqual({ bounds: null, maximized: false })
  })

  it('keeps the normal bounds as the window moves (debounced) and when it closes', () => {
    vi.useFakeTimers()
    const file = tempFile()
    const window = Object.assign(new EventEmitter(), {
      bounds: { x: 10, y: 20, width: 900, height: 700 },
      maximized: false,
      fullScreen: false,
      getNormalBounds() {
        return this.bounds
      },
      isMaximized() {
        return this.maximized
      },
      isFullScreen() {
        return this.fullScreen
      },
    })
    keepWindowState(window, file, { debounceMs: 200 })
    window.bounds = { x: 30, y: 40, width: 900, height: 700 }
    window.emit('move')
    window.emit('move')
    expect(readWindowState(file).bounds).toBeNull()
    vi.advanceTimersByTime(250)
    expect(readWindowState(file).bounds).toEqual({ x: 30, y: 40, width: 900, height: 700 })

    window.maximized = true
    window.fullScreen = true
    window.emit('close')
    // Full screen is not remembered as maximized; the bounds under it are.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      bounds: { x: 30, y: 40, width: 900, height: 700 },
      maximized: false,
    })
  })
})
