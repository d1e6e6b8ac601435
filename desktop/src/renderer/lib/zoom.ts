/**
 * The picture viewer's zoom and pan, as plain arithmetic. A view is the picture's scale (screen
 * pixels per picture pixel) and how far its centre is moved from the stage's centre. At its
 * smallest the picture fits the stage (never enlarged past its own size to fit); it zooms to
 * several times that, and can be moved only as far as it is larger than the stage.
 */

export interface Size {
  width: number
  height: number
}

export interface View {
  scale: number
  x: number
  y: number
}

/** A point on the stage, from its centre. */
export interface Point {
  x: number
  y: number
}

/** The largest zoom: eight times the fitted size, and at least four times the picture's own. */
const MAX_FACTOR = 8
const MAX_NATURAL = 4

export function fitScale(picture: Size, stage: Size): number {
  if (picture.width <= 0 || picture.height <= 0 || stage.width <= 0 || stage.height <= 0) return 1
  return Math.min(1, stage.width / picture.width, stage.height / picture.height)
}

export function maxScale(picture: Size, stage: Size): number {
  const fit = fitScale(picture, stage)
  return Math.max(fit * MAX_FACTOR, MAX_NATURAL)
}

export function fitted(picture: Size, stage: Size): View {
  return { scale: fitScale(picture, stage), x: 0, y: 0 }
}

/** Larger than fitted (by more than rounding). */
export function isZoomed(view: View, picture: Size, stage: Size): boolean {
  return view.scale > fitScale(picture, stage) * 1.001
}

/** Keeps the picture over the stage: moved no further than it overflows on each side. */
export function clampPan(view: View, picture: Size, stage: Size): View {
  const overX = Math.max(0, (picture.width * view.scale - stage.width) / 2)
  const overY = Math.max(0, (picture.height * view.scale - stage.height) / 2)
  return { scale: view.scale, x: within(view.x, overX), y: within(view.y, overY) }
}

/** `value` held to ±`limit` (and never -0, which is 0 to anyone but a deep equality). */
function within(value: number, limit: number): number {
  return Math.min(limit, Math.max(-limit, value)) || 0
}

/** Zooms by `factor` keeping the picture's point under `at` where it is (the pointer, or the centre). */
export function zoomAt(view: View, factor: number, at: Point, picture: Size, stage: Size): View {
  const scale = Math.min(maxScale(picture, stage), Math.max(fitScale(picture, stage), view.scale * factor))
  const ratio = scale / view.scale
  return clampPan(
    { scale, x: at.x - (at.x - view.x) * ratio, y: at.y - (at.y - view.y) * ratio },
    picture,
    stage,
  )
}

export function panBy(view: View, dx: number, dy: number, picture: Size, stage: Size): View {
  return clampPan({ scale: view.scale, x: view.x + dx, y: view.y + dy }, picture, stage)
}

/**
 * Double-click: fitted again when zoomed; otherwise in, to the picture's own pixels when they are
 * at least twice the fitted size, else to twice the fitted size.
 */
export function toggleZoom(view: View, at: Point, picture: Size, stage: Size): View {
  if (isZoomed(view, picture, stage)) return fitted(picture, stage)
  const fit = fitScale(picture, stage)
  const target = Math.max(1, fit * 2)
  return zoomAt(view, target / view.scale, at, picture, stage)
}

/** How much a wheel turn zooms: a pinch on a touchpad comes as ctrl+wheel, in smaller steps. */
export function wheelFactor(deltaY: number, pinch: boolean): number {
  const rate = pinch ? 0.01 : 0.0015
  return Math.exp(-Math.max(-300, Math.min(300, deltaY)) * rate)
}
