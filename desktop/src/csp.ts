/**
 * The renderer's Content-Security-Policy, written once for every way the page is served: Electron's
 * app:// protocol and the browser-mode host send it as a header, and both builds write it into
 * index.html as a meta tag (so it holds wherever the page is opened from, e.g. a dev server).
 *
 * No 'unsafe-eval' and no inline scripts; inline styles are needed by Svelte (style attributes,
 * transitions) and emoji-picker-element. Pictures and voice messages are blob: URLs made from the
 * core's bytes. The
 * page talks to the core through the preload (Electron) or one loopback WebSocket to the host
 * (browser mode): that is the only thing the targets differ in.
 */
const DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'blob:', 'data:'],
  // Voice messages play from blob: URLs made from the core's bytes (and the recorder's own).
  'media-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
} as const satisfies Record<string, readonly string[]>

/** Browsers ignore these in a meta tag (and say so in the console): only a header can carry them. */
const HEADER_ONLY = new Set<string>(['frame-ancestors'])

export interface CspOptions {
  /** Where the page may connect besides its own origin (browser mode: the host's WebSocket). */
  connect?: readonly string[]
  /** For index.html's meta tag: without the header-only directives. */
  meta?: boolean
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  return Object.entries(DIRECTIVES)
    .filter(([name]) => !(options.meta && HEADER_ONLY.has(name)))
    .map(([name, sources]) =>
      [name, ...sources, ...(name === 'connect-src' ? (options.connect ?? []) : [])].join(' '),
    )
    .join('; ')
}

/** The browser-mode host's WebSocket, on the port it listens on (or any, for a page built before). */
export function hostSockets(port: number | '*'): string[] {
  return [`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]
}

/** index.html's `%PARLEY_CSP%` placeholder, for the builds' `transformIndexHtml`. */
export const CSP_PLACEHOLDER = '%PARLEY_CSP%'

/**
 * A Vite plugin that writes the policy into index.html's meta tag. Browser mode's page allows the
 * host's WebSocket on any loopback port (the host's header names the one port); Electron's allows
 * none.
 */
export function cspMeta(options: { connect?: readonly string[] } = {}) {
  const policy = contentSecurityPolicy({ ...options, meta: true })
  return {
    name: 'parley-csp-meta',
    transformIndexHtml(html: string): string {
      if (!html.includes(CSP_PLACEHOLDER)) throw new Error(`index.html has no ${CSP_PLACEHOLDER}`)
      return html.replaceAll(CSP_PLACEHOLDER, policy)
    },
  }
}
