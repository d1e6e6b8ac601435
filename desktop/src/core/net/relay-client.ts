import {
  type BridgeError,
  isErrorCode,
  type Result,
  type RouteName,
  type RouteSpec,
  routes,
} from '@parley/shared'
import type Type from 'typebox'
import { checkIncoming } from './incoming'
import { chunksOf, multipartPart, multipartStream } from './multipart'

type Routes = typeof routes
type StaticOf<S> = S extends Type.TSchema ? Type.Static<S> : never

export type RouteBody<R extends RouteName> = Routes[R] extends { body: infer S } ? StaticOf<S> : undefined
export type RouteResponse<R extends RouteName> = Routes[R]['response'] extends infer S
  ? S extends Type.TSchema
    ? Type.Static<S>
    : null
  : never

export interface RouteInput<R extends RouteName> {
  params?: Record<string, string | number>
  query?: Record<string, string | number | undefined>
  body?: RouteBody<R>
}

export interface RelayClientOptions {
  token?: string | null
  fetch?: typeof fetch
  timeoutMs?: number
  /** Called when the relay refuses the token (401), so the session can end. */
  onUnauthorized?: () => void
}

/**
 * The relay's REST API, typed from the shared route table. Every call resolves to a Result: relay
 * errors keep their code; a connection that fails is `network`; an answer this build cannot read
 * is `invalid_response`, or `not_a_relay` when the server does not even answer /health as a
 * Parley relay does (a web server, another app, a wrong port).
 */
export class RelayClient {
  readonly baseUrl: string
  #token: string | null
  readonly #fetch: typeof fetch
  readonly #timeoutMs: number
  readonly #onUnauthorized: (() => void) | undefined

  constructor(baseUrl: string, options: RelayClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#token = options.token ?? null
    this.#fetch = options.fetch ?? fetch
    this.#timeoutMs = options.timeoutMs ?? 15_000
    this.#onUnauthorized = options.onUnauthorized
  }

  set token(token: string | null) {
    this.#token = token
  }

  async call<R extends RouteName>(name: R, input: RouteInput<R> = {}): Promise<Result<RouteResponse<R>>> {
    const spec: RouteSpec = routes[name]
    let url = spec.url.replace(/:(\w+)/g, (_, key: string) => encodeURIComponent(String(input.params?.[key])))
    if (input.query) {
      const query = new URLSearchParams()
      for (const [key, value] of Object.entries(input.query))
        if (value !== undefined) query.set(key, String(value))
      const text = query.toString()
      if (text) url += `?${text}`
    }
    const headers: Record<string, string> = {}
    if (spec.auth) {
      if (!this.#token) return failure('not_signed_in', 'Sign in first')
      headers.authorization = `Bearer ${this.#token}`
    }
    let body: string | undefined
    if (input.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(input.body)
    }
    let response: Response
    let text: string
    try {
      response = await this.#fetch(`${this.baseUrl}${url}`, {
        method: spec.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      text = await response.text()
    } catch (error) {
      return failure('network', `Cannot reach the relay at ${this.baseUrl}: ${describe(error)}`)
    }
    if (response.status !== spec.status) return this.#failed(response.status, text)
    if (spec.response === null) return { ok: true, value: null as RouteResponse<R> }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return this.#unreadable(
        response.status,
        `${spec.method} ${spec.url} answered with something other than JSON`,
      )
    }
    const checked = checkIncoming(spec.response, parsed, 'response')
    if (!checked.ok)
      return this.#unreadable(response.status, `${spec.method} ${spec.url}: ${checked.message}`)
    return { ok: true, value: checked.value as RouteResponse<R> }
  }

  /**
   * A signed-in request outside the route table (routes whose answer is not JSON, such as the
   * account export's zip), answered as status, type and bytes; the caller judges the status.
   */
  async raw(
    method: 'GET' | 'DELETE' | 'POST',
    url: string,
    body?: unknown,
  ): Promise<Result<{ status: number; contentType: string; bytes: Buffer }>> {
    if (!this.#token) return failure('not_signed_in', 'Sign in first')
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    try {
      const response = await this.#fetch(`${this.baseUrl}${url}`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs * 4),
      })
      const bytes = Buffer.from(await response.arrayBuffer())
      if (response.status >= 400) return this.#failed(response.status, bytes.toString('utf8'))
      return {
        ok: true,
        value: { status: response.status, contentType: response.headers.get('content-type') ?? '', bytes },
      }
    } catch (error) {
      return failure('network', `Cannot reach the relay at ${this.baseUrl}: ${describe(error)}`)
    }
  }

  /**
   * A signed-in GET whose body is streamed, not read here (a file's download): the answer's status,
   * headers and body when below 400, else the relay's error. `signal` ends it (no overall timeout:
   * a big file on a slow line takes as long as it takes; the caller watches for a stall).
   */
  async stream(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Result<{ status: number; headers: Headers; body: ReadableStream<Uint8Array> }>> {
    if (!this.#token) return failure('not_signed_in', 'Sign in first')
    let response: Response
    try {
      response = await this.#fetch(`${this.baseUrl}${url}`, {
        headers: { ...headers, authorization: `Bearer ${this.#token}` },
        signal,
      })
    } catch (error) {
      return failure('network', `Cannot reach the relay at ${this.baseUrl}: ${describe(error)}`)
    }
    if (response.status >= 400 || !response.body) {
      let text = ''
      try {
        text = await response.text()
      } catch {
        // The error's body was cut: its status still says enough.
      }
      return this.#failed(response.status, text)
    }
    return { ok: true, value: { status: response.status, headers: response.headers, body: response.body } }
  }

  /** An image's bytes (GET /images/:id): `full` is the image as uploaded (re-encoded by the relay). */
  async getImage(
    id: string,
    size: 'thumb' | 'full' | 'avatar',
  ): Promise<Result<{ mime: string; bytes: Buffer }>> {
    if (!this.#token) return failure('not_signed_in', 'Sign in first')
    const query = size === 'full' ? '' : `?size=${size}`
    let response: Response
    let bytes: Buffer
    try {
      response = await this.#fetch(`${this.baseUrl}/images/${encodeURIComponent(id)}${query}`, {
        headers: { authorization: `Bearer ${this.#token}` },
        signal: AbortSignal.timeout(Math.max(this.#timeoutMs, 60_000)),
      })
      bytes = Buffer.from(await response.arrayBuffer())
    } catch (error) {
      return failure('network', `Cannot reach the relay at ${this.baseUrl}: ${describe(error)}`)
    }
    if (response.status !== 200) return this.#failed(response.status, bytes.toString('utf8'))
    const mime = response.headers.get('content-type')?.split(';')[0]?.trim() || 'application/octet-stream'
    return { ok: true, value: { mime, bytes } }
  }

  /**
   * POST /uploadimage: one multipart part named `file`. The body is streamed in chunks, and
   * `onProgress` hears how many bytes of the picture have gone to the network so far.
   */
  uploadImage(
    bytes: Uint8Array,
    mime: string,
    onProgress?: (sentBytes: number) => void,
  ): Promise<Result<RouteResponse<'uploadImage'>>> {
    return this.#upload(
      'uploadImage',
      chunksOf(bytes),
      { size: bytes.length, name: 'image', type: mime },
      onProgress,
    )
  }

  /** POST /files: a file of any type, streamed from `source` (read again from the start on every try). */
  uploadFile(
    source: AsyncIterable<Uint8Array>,
    file: { size: number; name: string; type: string },
    onProgress?: (sentBytes: number) => void,
    signal?: AbortSignal,
  ): Promise<Result<RouteResponse<'uploadFile'>>> {
    return this.#upload('uploadFile', source, file, onProgress, signal)
  }

  async #upload<R extends 'uploadImage' | 'uploadFile'>(
    name: R,
    source: AsyncIterable<Uint8Array>,
    file: { size: number; name: string; type: string },
    onProgress?: (sentBytes: number) => void,
    signal?: AbortSignal,
  ): Promise<Result<RouteResponse<R>>> {
    if (!this.#token) return failure('not_signed_in', 'Sign in first')
    const spec: RouteSpec = routes[name]
    const part = multipartPart(file.name, file.type)
    let response: Response
    let text: string
    try {
      response = await this.#fetch(`${this.baseUrl}${spec.url}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.#token}`,
          'content-type': part.contentType,
          'content-length': String(part.head.length + file.size + part.tail.length),
        },
        body: multipartStream(part, source, onProgress),
        duplex: 'half',
        signal: AbortSignal.any([
          // 100 bytes a millisecond at worst; a whole number, or the timer throws (RangeError).
          AbortSignal.timeout(Math.max(this.#timeoutMs, 120_000, Math.ceil(file.size / 100))),
          ...(signal ? [signal] : []),
        ]),
      } as RequestInit)
      text = await response.text()
    } catch (error) {
      return failure('network', `Cannot reach the relay at ${this.baseUrl}: ${describe(error)}`)
    }
    if (response.status !== spec.status) return this.#failed(response.status, text)
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      return failure('invalid_response', `POST ${spec.url} answered with something other than JSON`)
    }
    const checked = checkIncoming(spec.response as Type.TSchema, parsed, 'response')
    if (!checked.ok) return failure('invalid_response', `POST ${spec.url}: ${checked.message}`)
    return { ok: true, value: checked.value as RouteResponse<R> }
  }

  async #failed(status: number, text: string): Promise<{ ok: false; error: BridgeError }> {
    let code: unknown
    let message = `The relay answered ${status}`
    try {
      const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
      code = body.error?.code
      if (typeof body.error?.message === 'string') message = body.error.message
    } catch {
      // Not our error shape: judged by the status below.
    }
    if (code === 'unauthorized') this.#onUnauthorized?.()
    if (isErrorCode(code)) return { ok: false, error: { code, message } }
    // A relay that is closing may answer before its routes run, without our error shape.
    if (status === 503) return failure('shutting_down', message)
    if (status === 429) return failure('rate_limited', message)
    // A proxy in front of a relay that is down answers 5xx too: that is not "no relay here".
    if (status >= 500) return failure('internal_error', message)
    return this.#unreadable(status, message)
  }

  /** An answer this build cannot read: from a relay (`invalid_response`) or from something else. */
  async #unreadable(status: number, message: string): Promise<{ ok: false; error: BridgeError }> {
    if (await this.#isParleyRelay()) return failure('invalid_response', message)
    return failure('not_a_relay', `${this.baseUrl} is not a Parley relay (it answered ${status})`)
  }

  /** Whether /health answers as a Parley relay's does (any version: only its shape counts). */
  async #isParleyRelay(): Promise<boolean> {
    try {
      const response = await this.#fetch(`${this.baseUrl}${routes.health.url}`, {
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      if (response.status !== routes.health.status) return false
      return checkIncoming(routes.health.response, JSON.parse(await response.text()), 'health').ok
    } catch {
      return false
    }
  }
}

export function failure(code: BridgeError['code'], message: string): { ok: false; error: BridgeError } {
  return { ok: false, error: { code, message } }
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
    return `${error.message}${cause}`
  }
  return String(error)
}
