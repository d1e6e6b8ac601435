/** The parts of Electron's `app` the quit sequence uses. */
export interface QuittingApp {
  quit(): void
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown
}

export interface QuitOptions {
  app: QuittingApp
  /** Closes the core: the outbox is already on disk; this stops syncing and checkpoints the store. */
  closeCore(): Promise<void>
  onError?(error: unknown): void
  /** A core that does not close in this time is left behind, so quitting never hangs (default 5 s). */
  timeoutMs?: number
}

/**
 * Quitting from anywhere (tray, menu, Cmd+Q, the last window closing, the OS) goes through
 * `before-quit`. The first one is held until the core has closed its store, then the quit goes on.
 */
export class QuitController {
  readonly #options: QuitOptions
  #quitting = false
  #holding = false
  #closing: Promise<void> | null = null
  #closed = false

  constructor(options: QuitOptions) {
    this.#options = options
    options.app.on('before-quit', (event) => {
      this.#quitting = true
      if (this.#closed) return
      event.preventDefault()
      if (this.#holding) return
      this.#holding = true
      void this.closeCore().then(() => options.app.quit())
    })
  }

  /** True from the first quit request on: windows must then really close instead of hiding. */
  get quitting(): boolean {
    return this.#quitting
  }

  quit(): void {
    this.#quitting = true
    this.#options.app.quit()
  }

  /** Closes the core once, whoever asks (also the OS ending the session, where no before-quit comes). */
  closeCore(): Promise<void> {
    if (this.#closing) return this.#closing
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('the core did not close in time')),
        this.#options.timeoutMs ?? 5000,
      )
    })
    this.#closing = Promise.race([Promise.resolve().then(() => this.#options.closeCore()), timeout])
      .catch((error) => this.#options.onError?.(error))
      .finally(() => {
        clearTimeout(timer)
        this.#closed = true
      })
    return this.#closing
  }
}

/** The parts of a BrowserWindow the close guard uses. */
export interface ClosingWindow {
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown
  hide(): void
}

/**
 * Closing the window hides it instead (the app keeps syncing and notifying from the tray) when
 * close-to-tray is on, and always on macOS, where apps live on in the dock; unless the app is
 * quitting, when the window must really close.
 */
export function guardWindowClose(
  window: ClosingWindow,
  options: { platform: NodeJS.Platform; closeToTray(): boolean; quitting(): boolean },
): void {
  window.on('close', (event) => {
    if (options.quitting()) return
    if (options.closeToTray() || options.platform === 'darwin') {
      event.preventDefault()
      window.hide()
    }
  })
}
