import { timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync, statSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { type EventFrame, InvokeFrame, type ResultFrame, validate } from '@parley/shared'
import { type WebSocket, WebSocketServer } from 'ws'
import { consoleLogger } from '../core/logger'
import { type CoreOptions, CoreService } from '../core/service'
import { contentSecurityPolicy, hostSockets } from '../csp'
import { newToken, readHostFile, TOKEN_PATTERN, writeHostFile } from './host-file'

/**
 * The largest frame the renderer may send. Most bridge calls are small; the largest is
 * `messages.sendImage`, whose picture (up to 10 MB) arrives as base64 (about 13.4 MiB) inside the
 * JSON frame. Frames from the host (`media.get` answers) are not bound by this.
 */
const MAX_FRAME_BYTES = 16 * 1024 * 1024
const BRIDGE_PATH = '/bridge'

/**
 * How the host tells a page that its address is stale (a GET of the bridge's address, or the
 * body of a refused upgrade): the token is not the one this host was started with.
 */
export const TOKEN_REFUSED = 'token_refused'

export interface HostOptions extends CoreOptions {
  /**
   * The loopback port. By default the one this data folder's host used last, when it is free, so
   * the address stays the same; 0 picks any free port.
   */
  port?: number
  /**
   * The bridge's token (32 to 256 letters, digits, `-` or `_`). By default the one saved in the
   * data folder (browser-host.json), made of 256 random bits on first start. The token in use is
   * saved there, so the next start prints the same address.
   */
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
  if (options.token !== undefined && !TOKEN_PATTERN.test(options.token)) {
    throw new Error('The host token must be 32 to 256 letters, digits, - or _')
  }
  // The core takes the data folder's lock first: the saved token is read and written under it.
  const core = await CoreService.start(options)
  let saved: ReturnType<typeof readHostFile>
  try {
    saved = readHostFile(options.dataDir, options.logger ?? consoleLogger)
  } catch (error) {
    await core.close()
    throw error
  }
  const token = options.token ?? saved?.token ?? newToken()
  const sockets = new Set<WebSocket>()
  let port = 0

  const rendererDir = path.resolve(options.rendererDir ?? DEFAULT_RENDERER_DIR)
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === BRIDGE_PATH && (request.method === 'GET' || request.method === 'HEAD')) {
      // A page whose socket will not open asks here why: a stale token and a host that is down
      // look the same to a WebSocket, but not to this answer.
      if (!tokenMatches(url.searchParams.get('token'), token)) {
        const body = tokenRefusal()
        response.writeHead(401, securityHeaders(port, jsonHeaders(body)))
        response.end(request.method === 'HEAD' ? undefined : body)
      } else {
        response.writeHead(426, securityHeaders(port, { upgrade: 'websocket', 'content-length': '0' }))
        response.end()
      }
      return
    }
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
    if (!tokenMatches(url.searchParams.get('token'), token)) {
      return refuse(socket, 401, 'Unauthorized', tokenRefusal())
    }
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

  let windows = 0
  wss.on('connection', (ws: WebSocket) => {
    // Each page is a window of its own to the core (its presence counts until it goes).
    const caller = `tab-${++windows}`
    sockets.add(ws)
    ws.on('close', () => {
      sockets.delete(ws)
      core.windowClosed(caller)
    })
    ws.on('message', (data, isBinary) => {
      void answer(ws, caller, isBinary ? null : data.toString())
    })
  })

  const send = (ws: WebSocket, frame: ResultFrame | EventFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
  }

  async function answer(ws: WebSocket, caller: string, text: string | null): Promise<void> {
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
    const result = await core.invoke(frame.value.method, frame.value.params, caller)
    send(ws, { type: 'result', id: frame.value.id, result })
  }

  const stopEvents = core.onAny((event, payload) => {
    for (const ws of sockets) send(ws, { type: 'event', event, payload })
  })

  try {
    const remembered = options.port === undefined ? (saved?.port ?? 0) : null
    try {
      await listen(server, options.port ?? remembered ?? 0)
    } catch (error) {
      // The port used last is taken by now: any other will do (the address changes, and says so).
      if (!remembered || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
      await listen(server, 0)
    }
    port = (server.address() as { port: number }).port
    writeHostFile(options.dataDir, { token, port })
  } catch (error) {
    if (server.listening) server.close()
    await core.close()
    throw error
  }
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

function listen(server: http.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    server.once('error', onError)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError)
      resolve()
    })
  })
}

function tokenRefusal(): string {
  return JSON.stringify({
    error: {
      code: TOKEN_REFUSED,
      message: 'This address is from an earlier start of Parley: open the address it printed',
    },
  })
}

function jsonHeaders(body: string): Record<string, string> {
  return { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
}

function refuse(socket: Duplex, status: number, reason: string, body = ''): void {
  const headers = body ? `Content-Type: application/json\r\n` : ''
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${headers}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
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
    'content-security-policy': contentSecurityPolicy({ connect: hostSockets(port) }),
  }
}
