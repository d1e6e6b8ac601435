import { describe, expect, it } from 'vitest'
import {
  clampPan,
  fitScale,
  fitted,
  isZoomed,
  maxScale,
  panBy,
  toggleZoom,
  wheelFactor,
  zoomAt,
} from '../../src/renderer/lib/zoom'

const stage = { width: 1000, height: 800 }
const large = { width: 4000, height: 2000 }
const small = { width: 200, height: 100 }

describe('the picture viewer’s zoom and pan', () => {
  it('fits a large picture to the stage, and leaves a small one at its own size', () => {
    expect(fitScale(large, stage)).toBe(0.25)
    expect(fitScale(small, stage)).toBe(1)
    expect(fitted(large, stage)).toEqual({ scale: 0.25, x: 0, y: 0 })
    expect(fitScale({ width: 0, height: 0 }, stage)).toBe(1)
  })

  it('zooms between the fit and a maximum, keeping the point under the pointer in place', () => {
    const start = fitted(large, stage)
    const zoomed = zoomAt(start, 2, { x: 200, y: 0 }, large, stage)
    expect(zoomed.scale).toBe(0.5)
    // The picture's point that was 200 px right of the centre is still there.
    const pictureX = (200 - start.x) / start.scale
    expect(zoomed.x + pictureX * zoomed.scale).toBeCloseTo(200)
    expect(isZoomed(zoomed, large, stage)).toBe(true)
    expect(zoomAt(zoomed, 1000, { x: 0, y: 0 }, large, stage).scale).toBe(maxScale(large, stage))
    expect(zoomAt(zoomed, 0.001, { x: 0, y: 0 }, large, stage)).toEqual(start)
  })

  it('pans only as far as the picture overflows the stage', () => {
    const zoomed = zoomAt(fitted(large, stage), 2, { x: 0, y: 0 }, large, stage)
    // 2000 × 1000 on a 1000 × 800 stage: 500 px of room each side across, 100 up and down.
    expect(panBy(zoomed, 10_000, -10_000, large, stage)).toEqual({ scale: 0.5, x: 500, y: -100 })
    expect(clampPan({ scale: 1, x: 50, y: 50 }, small, stage)).toEqual({ scale: 1, x: 0, y: 0 })
  })

  it('double-click zooms in at the pointer (to the picture’s own pixels, or twice the fit), and back out', () => {
    const start = fitted(large, stage)
    const inView = toggleZoom(start, { x: 100, y: 50 }, large, stage)
    expect(inView.scale).toBe(1)
    expect(toggleZoom(inView, { x: 0, y: 0 }, large, stage)).toEqual(start)
    expect(toggleZoom(fitted(small, stage), { x: 0, y: 0 }, small, stage).scale).toBe(2)
    const fitsHalf = { width: 1600, height: 1000 }
    expect(toggleZoom(fitted(fitsHalf, stage), { x: 0, y: 0 }, fitsHalf, stage).scale).toBeCloseTo(1.25)
  })

  it('a wheel turn up zooms in, down zooms out; a pinch zooms in finer steps per unit', () => {
    expect(wheelFactor(-100, false)).toBeGreaterThan(1)
    expect(wheelFactor(100, false)).toBeLessThan(1)
    expect(wheelFactor(-10, true)).toBeGreaterThan(1)
    expect(wheelFactor(-100_000, false)).toBe(wheelFactor(-300, false))
  })
})
