/**
 * What the UI bench runs inside the page. Playwright sends these functions as source text, so
 * each must be self-contained: no imports, no helpers from outside its own body.
 *
 * "Painted" means: seen in a requestAnimationFrame callback (the frame that will paint it), then
 * timed when a timer set there fires, which is after that frame's style, layout and paint: when
 * the pixels leave the main thread, a few milliseconds before raster and compositing show them.
 */

export interface OpenTarget {
  /** The conversation's name as the sidebar shows it. */
  name: string
  /** Its newest message, which the list must show once opened. */
  newestLocalId: number
}

/** Milliseconds since navigation start. */
export interface OpenTimings {
  firstContentfulPaint: number | null
  /** The first conversation row in the sidebar painted. */
  sidebar: number
  /** Clicked on the target's row (as soon as the sidebar was painted). */
  click: number
  /** The first message of the conversation painted. */
  firstMessage: number
  /** Its newest message painted inside the list's viewport: the conversation as it opens. */
  settled: number
}

export interface LongFrame {
  duration: number
  /** Its scripts, all together. */
  scriptDuration: number
  /** From the start of its rendering (rAF callbacks, observers, style, layout, paint) to its end. */
  renderDuration: number
  /** The scripts that ran longest in it, as "invoker (ms)". */
  scripts: string[]
}

export interface FrameRecord {
  /** Between successive animation frames. */
  intervals: number[]
  longFrames: LongFrame[]
  /** Frames that found the list at its very top (waiting for older messages to load). */
  framesAtTop: number
  /** `article.message` elements the list created: for a message scrolled into view, or again. */
  messagesMounted: number
  /** How many different messages those were. */
  distinctMessages: number
}

export interface ListPlace {
  /** The middle of the message list, in the page's CSS pixels. */
  x: number
  y: number
  /** How far it can still scroll down. */
  toBottom: number
}

// The little of the DOM the probes use. The scripts project compiles with Node's types only:
// the DOM library would change globals that the other scripts use (Blob, fetch bodies).
interface Box {
  top: number
  bottom: number
  left: number
  width: number
  height: number
}
interface PageElement {
  readonly textContent: string | null
  readonly scrollTop: number
  readonly scrollHeight: number
  readonly clientHeight: number
  getBoundingClientRect(): Box
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): ArrayLike<PageElement>
  matches(selector: string): boolean
  getAttribute(name: string): string | null
  click(): void
}
interface PageEntry {
  name: string
  startTime: number
  duration: number
  renderStart?: number
  scripts?: { invoker: string; duration: number }[]
}
interface PageObserver {
  observe(options: object): void
  disconnect(): void
}
interface PageMutationObserver {
  observe(target: PageElement, options: object): void
  disconnect(): void
}

/** The page's global object as the probes see it, with what they leave on it for the bench. */
export interface ProbedWindow {
  document: {
    body: PageElement | null
    querySelector(selector: string): PageElement | null
    querySelectorAll(selector: string): ArrayLike<PageElement>
  }
  requestAnimationFrame(callback: (now: number) => void): number
  MutationObserver: new (
    callback: (records: { addedNodes: ArrayLike<unknown> }[]) => void,
  ) => PageMutationObserver
  PerformanceObserver: {
    new (callback: (list: { getEntries(): PageEntry[] }) => void): PageObserver
    readonly supportedEntryTypes: readonly string[]
  }
  parleyBench?: Promise<OpenTimings>
  parleyFrames?: { stop(): Promise<FrameRecord> }
}

/**
 * Installed with addInitScript, so it runs before the app's own scripts: times navigation →
 * sidebar painted, clicks the target's row then, and times the conversation's paints after it.
 * Leaves the timings (a promise) in `parleyBench`.
 */
export function timeFirstConversation(target: OpenTarget): void {
  const page = globalThis as unknown as ProbedWindow
  const whenPainted = (visible: () => boolean, what: string, timeoutMs: number) =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now()
      const frame = () => {
        if (visible()) setTimeout(() => resolve(performance.now()), 0)
        else if (performance.now() - started > timeoutMs) {
          const shown = page.document.body?.textContent?.replace(/\s+/g, ' ').slice(0, 160) ?? ''
          reject(new Error(`no ${what} within ${timeoutMs} ms; the page shows: ${shown}`))
        } else page.requestAnimationFrame(frame)
      }
      page.requestAnimationFrame(frame)
    })
  const shows = (element: PageElement | null | undefined, viewport?: PageElement | null) => {
    if (!element) return false
    const box = element.getBoundingClientRect()
    if (box.width === 0 || box.height === 0) return false
    if (!viewport) return true
    const view = viewport.getBoundingClientRect()
    return box.bottom > view.top && box.top < view.bottom
  }
  const rows = () => Array.from(page.document.querySelectorAll('nav[aria-label="Conversations"] button'))
  const log = () => page.document.querySelector('[role="log"]')

  let firstContentfulPaint: number | null = null
  new page.PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if (entry.name === 'first-contentful-paint') firstContentfulPaint = entry.startTime
  }).observe({ type: 'paint', buffered: true })

  page.parleyBench = (async () => {
    const sidebar = await whenPainted(() => shows(rows()[0]), 'conversation in the sidebar', 20_000)
    const row = rows().find((button) => button.textContent?.includes(target.name))
    if (!row) throw new Error(`no sidebar row for ${target.name}`)
    const click = performance.now()
    row.click()
    const firstMessage = await whenPainted(
      () => shows(log()?.querySelector('article.message'), log()),
      'message in the list',
      20_000,
    )
    const settled = await whenPainted(
      () => shows(log()?.querySelector(`article.message[data-local-id="${target.newestLocalId}"]`), log()),
      'newest message in view',
      20_000,
    )
    return { firstContentfulPaint, sidebar, click, firstMessage, settled }
  })()
}

/** Where the message list is, and how far it is from its bottom. */
export function listPlace(): ListPlace {
  const page = globalThis as unknown as ProbedWindow
  const list = page.document.querySelector('[role="log"]')
  if (!list) throw new Error('no message list')
  const box = list.getBoundingClientRect()
  return {
    x: Math.round(box.left + box.width / 2),
    y: Math.round(box.top + box.height / 2),
    toBottom: list.scrollHeight - list.scrollTop - list.clientHeight,
  }
}

/**
 * Records every animation frame from now until `parleyFrames.stop()`: its interval, the long
 * animation frames (over 50 ms) with the scripts that made them long, and how many message
 * elements the list created.
 */
export function recordFrames(): void {
  const page = globalThis as unknown as ProbedWindow
  const list = page.document.querySelector('[role="log"]')
  const record: FrameRecord = {
    intervals: [],
    longFrames: [],
    framesAtTop: 0,
    messagesMounted: 0,
    distinctMessages: 0,
  }
  const seen = new Set<string | null>()
  const mounts = new page.MutationObserver((mutations) => {
    for (const mutation of mutations)
      for (const node of Array.from(mutation.addedNodes)) {
        const element = node as PageElement
        if (typeof element.matches !== 'function') continue // text and comments
        const messages = element.matches('article.message')
          ? [element]
          : Array.from(element.querySelectorAll('article.message'))
        for (const message of messages) seen.add(message.getAttribute('data-local-id'))
        record.messagesMounted += messages.length
        record.distinctMessages = seen.size
      }
  })
  if (list) mounts.observe(list, { childList: true, subtree: true })
  const observer = new page.PerformanceObserver((entries) => {
    for (const frame of entries.getEntries()) {
      const scripts = frame.scripts ?? []
      record.longFrames.push({
        duration: frame.duration,
        scriptDuration: scripts.reduce((sum, script) => sum + script.duration, 0),
        renderDuration: frame.renderStart ? frame.startTime + frame.duration - frame.renderStart : 0,
        scripts: [...scripts]
          .sort((a, b) => b.duration - a.duration)
          .slice(0, 3)
          .map((script) => `${script.invoker} (${Math.round(script.duration)} ms)`),
      })
    }
  })
  // Long Animation Frames (Chromium 123+); where unsupported the list stays empty.
  if (page.PerformanceObserver.supportedEntryTypes.includes('long-animation-frame'))
    observer.observe({ type: 'long-animation-frame' })

  let recording = true
  let previous: number | undefined
  const frame = (now: number) => {
    if (previous !== undefined) record.intervals.push(now - previous)
    previous = now
    if (list?.scrollTop === 0) record.framesAtTop += 1
    if (recording) page.requestAnimationFrame(frame)
  }
  page.requestAnimationFrame(frame)
  page.parleyFrames = {
    stop: () =>
      new Promise((resolve) => {
        recording = false
        // Two more frames, so the last long-frame entry is in.
        page.requestAnimationFrame(() =>
          page.requestAnimationFrame(() =>
            setTimeout(() => {
              observer.disconnect()
              mounts.disconnect()
              resolve(record)
            }, 0),
          ),
        )
      }),
  }
}
