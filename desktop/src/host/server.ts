import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { type EventFrame, InvokeFrame, type ResultFrame, validate } from '@parley/shared'
import { type WebSocket, WebSocketServer } from 'ws'
import { type CoreOptions, CoreService } from '../core/service'

/**
 * The largest frame the renderer may send. Most bridge calls are small; the largest is
 * `messages.sendImage`, whose picture (up to 10 MB) arrives as base64 (about 13.4 MiB) inside the
 * JSON frame. Frames from the host (`media.get` answers) are not bound by this.
 */
const MAX_FRAME_BYTES = 16 * 1024 * 1024
const BRIDGE_PATH = '/bridge'

export interface HostOptions extends CoreOptions {
  /** 0 (the default) picks a free port. */
  port?: number
  /** Given by tests and scripts that need to know it; otherwise 256 random bits. */
  token?: string
  /** The built renderer (`npm run build:renderer`); default desktop/dist/renderer. */
  rendererDir?: string
}

/** Where `npm run build:renderer` puts the renderer, from this file's place in desktop/src/host. */
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer', import.meta.url))

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
}

export interface RunningHost {
  core: CoreService
  port: number
  token: string
  /** The address to open in a browser (the token rides in the query). */
  url: string
  /** The bridge's WebSocket address, token included. */
  bridgeUrl: string
  close(): Promise<void>
}

/**
 * Browser mode: one core, and its bridge over a WebSocket on 127.0.0.1. Any web page the user
 * visits can reach loopback ports, so every connection must carry the random token this host
 * printed, and a browser's Origin (when it sends one) must be this host's own.
 */
export async function startHost(options: HostOptions): Promise<RunningHost> {
  const token = options.token ?? randomBytes(32).toString('base64url')
  const core = await CoreService.start(options)
  const sockets = new Set<WebSocket>()
  let port = 0

  const rendererDir = path.resolve(options.rendererDir ?? DEFAULT_RENDERER_DIR)
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(
        405,
        securityHeaders(port, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }),
      )
      response.end('Method not allowed')
      return
    }
    // The renderer's files hold nothing secret: the token guards the bridge, not the page.
    let relative: string
    try {
      relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '')
    } catch {
      // A malformed escape (`/%E0%A4%A`) is the client's mistake, not a reason to stop.
      response.writeHead(400, securityHeaders(port, { 'content-type': 'text/plain; charset=utf-8' }))
      response.end('Bad request')
      return
    }
    const file = path.resolve(rendererDir, relative)
    const inside = file.startsWith(rendererDir + path.sep)
    if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      if (relative === 'index.html') {
        response.writeHead(503, securityHeaders(port, { 'content-type': 'text/plain; charset=utf-8' }))
        response.end('The Parley app is not built: run `npm run build:renderer` and reload.')
        return
      }
      response.writeHead(404, securityHeaders(port, { 'content-type': 'text/plain; charset=utf-8' }))
      response.end('Not found')
      return
    }
    const hashed = relative.startsWith('assets/')
    response.writeHead(
      200,
      securityHeaders(port, {
        'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-length': String(statSync(file).size),
        // Built assets carry a content hash in their names; the page itself must always be fresh.
        'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-store',
      }),
    )
    if (request.method === 'HEAD') response.end()
    else createReadStream(file).pipe(response)
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES })
  server.on('upgrade', (request, socket: Duplex, head) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (url.pathname !== BRIDGE_PATH) return refuse(socket, 404, 'Not Found')
    if (!tokenMatches(url.searchParams.get('token'), token)) return refuse(socket, 401, 'Unauthorized')
    const origin = request.headers.origin
    if (
      origin !== undefined &&
      origin !== `http://127.0.0.1:${port}` &&
      origin !== `http://localhost:${port}`
    ) {
      return refuse(socket, 403, 'Forbidden')
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
  })

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws)
    ws.on('close', () => sockets.delete(ws))
    ws.on('message', (data, isBinary) => {
      void answer(ws, isBinary ? null : data.toString())
    })
  })

  const send = (ws: WebSocket, frame: ResultFrame | EventFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
  }

  async function answer(ws: WebSocket, text: string | null): Promise<void> {
    let parsed: unknown
    try {
      parsed = text === null ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    const frame = validate(InvokeFrame, parsed)
    if (!frame.ok) {
      const id = (parsed as { id?: unknown } | undefined)?.id
      send(ws, {
        type: 'result',
        id: Number.isSafeInteger(id) && (id as number) >= 0 ? (id as number) : null,
        result: {
          ok: false,
          error: { code: 'invalid_params', message: `Not a bridge call: ${frame.message}` },
        },
      })
      return
    }
    const result = await core.invoke(frame.value.method, frame.value.params)
    send(ws, { type: 'result', id: frame.value.id, result })
  }

  const stopEvents = core.onAny((event, payload) => {
    for (const ws of sockets) send(ws, { type: 'event', event, payload })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  port = (server.address() as { port: number }).port
  const query = `token=${encodeURIComponent(token)}`

  return {
    core,
    port,
    token,
    url: `http://127.0.0.1:${port}/?${query}`,
    bridgeUrl: `ws://127.0.0.1:${port}${BRIDGE_PATH}?${query}`,
    close: async () => {
      stopEvents()
      for (const ws of sockets) ws.terminate()
      wss.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await core.close()
    },
  }
}

function tokenMatches(given: string | null, token: string): boolean {
  if (given === null) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroy()
}

/**
 * The token is in the page's URL: it must not leak through a Referer, and the page loads only its
 * own files and talks only to this host's bridge.
 */
function securityHeaders(port: number, headers: Record<string, string>): Record<string, string> {
  return {
    'cache-control': 'no-store',
    ...headers,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'content-security-policy': [
      "default-src 'self'",
      "script-src 'self'",
      // Svelte sets inline style attributes (sizes, positions); no inline scripts are allowed.
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' blob: data:",
      `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  }
}
