import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { contentSecurityPolicy } from '../csp'

/**
 * The renderer is served from `app://parley/`, a privileged standard scheme, rather than file://:
 * it gets a real origin ('self' in the CSP means only our files; fetch() of the emoji data works),
 * file:// stays closed to it, and every response carries our security headers.
 */
export const APP_SCHEME = 'app'
export const APP_HOST = 'parley'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const RENDERER_URL = `${APP_ORIGIN}/index.html`

/** For `protocol.registerSchemesAsPrivileged`, before the app is ready. */
export const appScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
}

/**
 * The renderer's Content-Security-Policy (see csp.ts), sent as a header with every response. The
 * renderer reaches the core only through the preload: connect-src 'self' only lets it read its own
 * assets.
 */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy()

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

export function securityHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    // Files of one build never change under the same name, but index.html names the others.
    'cache-control': 'no-cache',
  }
}

/**
 * The file under `rootDir` a request names, or null when it names none: another host, a path that
 * climbs out of the folder (`..`, encoded or not), a NUL byte, or a folder.
 */
export function resolveAppPath(rootDir: string, requestUrl: string): string | null {
  let url: URL
  try {
    url = new URL(requestUrl)
  } catch {
    return null
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null
  let pathname: string
  try {
    pathname = decodeURIComponent(url.pathname)
  } catch {
    return null
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null
  if (pathname === '/' || pathname === '') pathname = '/index.html'
  const root = path.resolve(rootDir)
  const file = path.resolve(root, `.${path.posix.normalize(pathname)}`)
  const relative = path.relative(root, file)
  if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) return null
  return file
}

/** The `protocol.handle` handler: the built renderer's files, read-only, with our headers. */
export function createAppProtocolHandler(
  rootDir: string,
  read: (file: string) => Promise<Uint8Array> = readFile,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('Method not allowed', {
        status: 405,
        headers: securityHeaders('text/plain; charset=utf-8'),
      })
    }
    const file = resolveAppPath(rootDir, request.url)
    const notFound = () =>
      new Response('Not found', { status: 404, headers: securityHeaders('text/plain; charset=utf-8') })
    if (!file) return notFound()
    let bytes: Uint8Array
    try {
      bytes = await read(file)
    } catch {
      return notFound()
    }
    const type = MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
    return new Response(request.method === 'HEAD' ? null : Buffer.from(bytes), {
      status: 200,
      headers: securityHeaders(type),
    })
  }
}
