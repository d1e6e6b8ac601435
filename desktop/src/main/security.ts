import { isAppUrl } from './ipc/bridge'

/**
 * The webPreferences of every window: Electron's security checklist, spelled out even where it is
 * the default, so a later default change or a stray override is caught by the bundle test.
 */
export function secureWebPreferences(preload: string) {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: true,
    safeDialogs: true,
  } as const
}

/**
 * A link the renderer asked to open, checked before it goes to the system browser: http(s) only
 * (no file:, javascript:, custom schemes that start other apps), no user:password@ (a classic way to
 * disguise the real host), a real host name, and a sane length.
 */
export function isSafeExternalUrl(raw: unknown): raw is string {
  if (typeof raw !== 'string' || raw.length > 2048) return false
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false
  if (url.username || url.password) return false
  return url.hostname.length > 0
}

/** The parts of a webContents the hardening hooks into. */
export interface HardenedContents {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: PreventableNavigation) => void): unknown
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
}

export interface PreventableNavigation {
  preventDefault(): void
  readonly url: string
  readonly isMainFrame?: boolean
}

/**
 * Every webContents (the window and anything it could spawn): no navigation away from our page, no
 * new windows, no <webview>. http(s) links the user clicks open in the system browser instead.
 */
export function hardenContents(contents: HardenedContents, openExternal: (url: string) => void): void {
  const leave = (url: string) => {
    if (isSafeExternalUrl(url)) openExternal(url)
  }
  contents.on('will-navigate', (event) => {
    event.preventDefault()
    leave(event.url)
  })
  // A server redirect could carry the page elsewhere without a will-navigate; ours never redirects.
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    leave(url)
    return { action: 'deny' }
  })
}

/**
 * What our own page may have: notifications, writing text to the clipboard (the message menu's
 * Copy; Chromium asks `clipboard-sanitized-write` for `navigator.clipboard.writeText`, and only
 * during a click or key press), and the microphone for voice messages (`media`, audio only: a
 * request naming video, or no media type at all, is refused). Reading the clipboard, the camera,
 * screen capture and everything else are refused, and other origins get nothing.
 */
const ALLOWED_PERMISSIONS = new Set(['notifications', 'clipboard-sanitized-write'])

/** What Electron tells about a `media` permission: the types a request wants, or the one a check asks about. */
export interface MediaDetails {
  /** A request (getUserMedia): the kinds of device it wants. */
  mediaTypes?: readonly string[]
  /** A check: the kind of device it asks about. */
  mediaType?: string
}

export function allowPermission(
  permission: string,
  requestingUrl: string | undefined,
  details: MediaDetails = {},
): boolean {
  if (requestingUrl === undefined || !isAppUrl(requestingUrl)) return false
  if (permission === 'media') return audioOnly(details)
  return ALLOWED_PERMISSIONS.has(permission)
}

/** The microphone and nothing else: at least one media type named, each of them audio. */
function audioOnly({ mediaTypes, mediaType }: MediaDetails): boolean {
  const types = mediaTypes ?? (mediaType === undefined ? [] : [mediaType])
  return types.length > 0 && types.every((type) => type === 'audio')
}

export interface PermissionSession {
  setPermissionRequestHandler(
    handler: (
      contents: unknown,
      permission: string,
      callback: (granted: boolean) => void,
      details: { requestingUrl?: string; mediaTypes?: string[] },
    ) => void,
  ): void
  setPermissionCheckHandler(
    handler: (
      contents: unknown,
      permission: string,
      requestingOrigin: string,
      details: { mediaType?: string },
    ) => boolean,
  ): void
  setDevicePermissionHandler?(handler: () => boolean): void
}

export function hardenSession(session: PermissionSession): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(allowPermission(permission, details.requestingUrl, details))
  })
  session.setPermissionCheckHandler((_contents, permission, origin, details) =>
    allowPermission(permission, origin, details ?? {}),
  )
  // USB, HID, serial and the like: never.
  session.setDevicePermissionHandler?.(() => false)
}
