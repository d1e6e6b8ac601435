import { randomBytes, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import type { Duplex } from 'node:stream'
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

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    // The renderer (issue 5) is served from here; until then a page that says so.
    if (
      request.method === 'GET' &&
      url.pathname === '/' &&
      tokenMatches(url.searchParams.get('token'), token)
    ) {
      response.writeHead(200, securityHeaders({ 'content-type': 'text/html; charset=utf-8' }))
      response.end(
        '<!doctype html><title>Parley</title><p>Parley host is running; the app UI is not built yet.</p>',
      )
      return
    }
    response.writeHead(404, securityHeaders({ 'content-type': 'text/plain; charset=utf-8' }))
    response.end('Not found')
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

/** The token is in the page's URL: it must not leak through a Referer, and the page loads only its own files. */
function securityHeaders(headers: Record<string, string>): Record<string, string> {
  return {
    ...headers,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy':
      "default-src 'self'; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; frame-ancestors 'none'",
    'cache-control': 'no-store',
  }
}
