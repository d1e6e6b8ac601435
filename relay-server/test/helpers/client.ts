import { randomUUID } from 'node:crypto'
import type {
  AuthResponse,
  ClientEventName,
  ClientEventPayload,
  ClientEventResults,
  ClientToServerEvents,
  ContactWithPresence,
  ErrorCode,
  MessageResponse,
  ServerToClientEvents,
} from '@parley/shared'
import { io, type Socket } from 'socket.io-client'

export interface HttpResult<T = unknown> {
  status: number
  body: T
  headers: Headers
}

/** A plain HTTP call to the relay; bodies are JSON unless `raw` is given. */
export async function http<T = unknown>(
  base: string,
  method: string,
  url: string,
  options: { token?: string; body?: unknown; raw?: string; contentType?: string } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = {}
  if (options.token) headers.authorization = `Bearer ${options.token}`
  let body: string | undefined
  if (options.raw !== undefined) {
    body = options.raw
    headers['content-type'] = options.contentType ?? 'application/json'
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] = options.contentType ?? 'application/json'
  }
  const response = await fetch(`${base}${url}`, { method, headers, ...(body !== undefined && { body }) })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    // Not JSON: the assertion on the body will show it.
  }
  return { status: response.status, body: parsed as T, headers: response.headers }
}

let counter = 0

export interface TestUser extends AuthResponse {
  password: string
  base: string
}

/** Registers a new user with a unique username (a factory: tests override only what they test). */
export async function registerUser(
  base: string,
  overrides: Partial<{
    username: string
    password: string
    firstName: string
    lastName: string
    email: string
    deviceName: string
  }> = {},
): Promise<TestUser> {
  counter += 1
  const username =
    overrides.username ?? `user${process.pid}x${counter}${Math.random().toString(36).slice(2, 6)}`
  const password = overrides.password ?? 'correct horse battery'
  const result = await http<AuthResponse>(base, 'POST', '/users', {
    body: {
      username,
      password,
      firstName: overrides.firstName ?? 'Test',
      lastName: overrides.lastName ?? `User ${counter}`,
      email: overrides.email ?? `${username}@example.com`,
      ...(overrides.deviceName && { deviceName: overrides.deviceName }),
    },
  })
  if (result.status !== 201)
    throw new Error(`register failed: ${result.status} ${JSON.stringify(result.body)}`)
  return { ...result.body, password, base }
}

/** Two new users who are already accepted contacts of each other. */
export async function registerContacts(base: string): Promise<[TestUser, TestUser]> {
  const a = await registerUser(base)
  const b = await registerUser(base)
  await befriend(a, b)
  return [a, b]
}

/** Makes `a` and `b` accepted contacts of each other. */
export async function befriend(a: TestUser, b: TestUser): Promise<void> {
  const asked = await http(a.base, 'POST', '/contacts', {
    token: a.token,
    body: { username: b.user.username },
  })
  if (asked.status !== 201) throw new Error(`contact request failed: ${JSON.stringify(asked.body)}`)
  const accepted = await http(b.base, 'PATCH', `/contacts/${a.user.id}`, {
    token: b.token,
    body: { status: 'accepted' },
  })
  if (accepted.status !== 200) throw new Error(`accept failed: ${JSON.stringify(accepted.body)}`)
}

export async function sendMessage(from: TestUser, to: TestUser, text = 'hello'): Promise<MessageResponse> {
  const result = await http<MessageResponse>(from.base, 'POST', '/messages', {
    token: from.token,
    body: { clientId: randomUUID(), recipientId: to.user.id, text },
  })
  if (result.status !== 201) throw new Error(`send failed: ${result.status} ${JSON.stringify(result.body)}`)
  return result.body
}

export async function contactsOf(user: TestUser): Promise<ContactWithPresence[]> {
  const result = await http<{ contacts: ContactWithPresence[] }>(user.base, 'GET', '/contacts', {
    token: user.token,
  })
  return result.body.contacts
}

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>

/** A connected socket.io-client for `user` (or for `token`); rejects on a refused handshake. */
export async function connect(base: string, token: string): Promise<ClientSocket> {
  const socket: ClientSocket = io(base, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('connect_error', (error) => {
      socket.close()
      reject(error)
    })
  })
  return socket
}

export type AckResult<E extends ClientEventName> =
  | ({ ok: true } & ClientEventResults[E])
  | { ok: false; error: { code: ErrorCode; message: string } }

export function emit<E extends ClientEventName>(
  socket: ClientSocket,
  event: E,
  payload: ClientEventPayload<E>,
  timeoutMs = 5000,
): Promise<AckResult<E>> {
  // biome-ignore lint/suspicious/noExplicitAny: raw emit so tests can also send malformed payloads
  return (socket.timeout(timeoutMs) as any).emitWithAck(event, payload)
}

/** Resolves with the first `event` matching `predicate`, or rejects after `timeoutMs`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  predicate: (payload: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener as never)
      reject(new Error(`no '${String(event)}' event within ${timeoutMs} ms`))
    }, timeoutMs)
    const listener = (payload: Parameters<ServerToClientEvents[E]>[0]) => {
      if (!predicate(payload)) return
      clearTimeout(timer)
      socket.off(event, listener as never)
      resolve(payload)
    }
    socket.on(event, listener as never)
  })
}

/** Collects every `event` the socket receives, for asserting that something did NOT arrive. */
export function record<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = []
  socket.on(event, ((payload: Parameters<ServerToClientEvents[E]>[0]) => seen.push(payload)) as never)
  return seen
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
