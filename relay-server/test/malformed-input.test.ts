import { randomUUID } from 'node:crypto'
import { parse as parseQuery } from 'node:querystring'
import {
  type ClientEventName,
  clientEvents,
  createAjv,
  errorCodes,
  FileId,
  GroupInviteCode,
  ImageId,
  isErrorCode,
  type RouteSpec,
  routes,
  USERNAME_PATTERN,
  validate,
} from '@parley/shared'
import { io } from 'socket.io-client'
import type Type from 'typebox'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import {
  befriend,
  type ClientSocket,
  connect,
  emit,
  http,
  registerUser,
  sendMessage,
  sleep,
  type TestUser,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import { createGroup, makeInvite } from './helpers/groups'
import { type RawResult, rawRequest } from './helpers/raw-http'
import { relayTests, type TestRelay } from './helpers/relay'

/**
 * "Bad input never crashes the relay": every route of the shared table and every client socket
 * event is fed a battery of malformed input, derived from its schemas so that new routes and
 * events are covered without touching this file. Each answer must be a 4xx with the error
 * envelope (or, for input that is in fact valid, anything but a 5xx), and the relay must stay up.
 */

// ---------------------------------------------------------------------------------------------
// Schemas: just enough JSON Schema to walk TypeBox's output.

interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  anyOf?: JsonSchema[]
  allOf?: JsonSchema[]
  const?: unknown
  format?: string
  pattern?: string
  not?: { required?: string[] }
  items?: JsonSchema
  minItems?: number
}

const asJson = (schema: Type.TSchema) => schema as unknown as JsonSchema

/** Every property of an object schema (or of an intersection of them), with whether it is required. */
function fieldsOf(schema: JsonSchema): { name: string; schema: JsonSchema; required: boolean }[] {
  if (schema.allOf && !schema.properties) return schema.allOf.flatMap(fieldsOf)
  const required = new Set(schema.required ?? [])
  return Object.entries(schema.properties ?? {}).map(([name, s]) => ({
    name,
    schema: s,
    required: required.has(name),
  }))
}

const leafType = (schema: JsonSchema): string | undefined =>
  schema.type ?? (schema.anyOf ? leafType(schema.anyOf[0]!) : undefined)

let unique = 0
const uniqueName = () => `mf${process.pid}x${++unique}${Math.random().toString(36).slice(2, 6)}`

/** Ids that exist for the caller, by field name (the rest of a sample is built from the schema). */
interface SampleIds {
  self: number
  peer: number
  message: number
  group: number
  /** A group invite code of `group`. */
  code: string
}

function idForField(field: string, ids: SampleIds): number {
  if (field === 'after') return 0
  if (field === 'limit') return 1
  if (['id', 'messageId', 'upTo', 'before'].includes(field)) return ids.message
  if (['group', 'groupId'].includes(field)) return ids.group
  return ids.peer
}

const IMAGE_ID_PATTERN = (ImageId as JsonSchema).pattern
const FILE_ID_PATTERN = (FileId as JsonSchema).pattern
const GROUP_INVITE_CODE_PATTERN = (GroupInviteCode as JsonSchema).pattern

/** An upload's id, or an object holding one (a voice message): a sample cannot point at a real upload. */
const refersToUpload = (schema: JsonSchema): boolean =>
  schema.pattern === IMAGE_ID_PATTERN ||
  schema.pattern === FILE_ID_PATTERN ||
  !!schema.anyOf?.some(refersToUpload) ||
  Object.values(schema.properties ?? {}).some(refersToUpload)

/** Optional fields naming another message: which one fits depends on the conversation, so samples leave them out. */
const OTHER_MESSAGE_FIELDS = ['forwardOf', 'replyToId']

/** A well-formed value for `schema` (fresh usernames and UUIDs each time, existing ids). */
function sample(schema: JsonSchema, ids: SampleIds, field = ''): unknown {
  if ('const' in schema) return schema.const
  // An object's own anyOf only says which optional fields must appear; its properties decide.
  if (schema.anyOf && schema.type !== 'object') return sample(schema.anyOf[0]!, ids, field)
  if (schema.allOf && !schema.properties)
    return Object.assign({}, ...schema.allOf.map((s) => sample(s, ids, field) as object))
  switch (schema.type) {
    case 'object': {
      // An optional upload (image, file, voice) or message reference is left out.
      const value: Record<string, unknown> = Object.fromEntries(
        fieldsOf(schema)
          .filter((f) => f.required || !(refersToUpload(f.schema) || OTHER_MESSAGE_FIELDS.includes(f.name)))
          .map((f) => [f.name, sample(f.schema, ids, f.name)]),
      )
      // "Exactly one of" (a person or a group): keep the first.
      for (const not of [schema.not, ...(schema.allOf ?? []).map((s) => s.not)]) {
        for (const name of not?.required?.slice(1) ?? []) delete value[name]
      }
      return value
    }
    case 'integer':
    case 'number':
      return idForField(field, ids)
    case 'boolean':
      return true
    case 'array':
      return schema.minItems && schema.items ? [sample(schema.items, ids)] : []
    case 'string':
      if (schema.format === 'email') return `${uniqueName()}@example.com`
      if (schema.format === 'uuid' || schema.pattern?.includes('{8}-')) return randomUUID()
      if (schema.pattern?.includes('Extended_Pictographic')) return '👍'
      if (schema.pattern === USERNAME_PATTERN) return uniqueName()
      if (schema.pattern === IMAGE_ID_PATTERN) return 'f'.repeat(64)
      if (schema.pattern === GROUP_INVITE_CODE_PATTERN) return ids.code
      return 'Perfectly fine text'
    default:
      return null
  }
}

/** Wrong values for any field: every JSON type, edge numbers, and shapes that are not scalars. */
const WRONG_VALUES: [string, unknown][] = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['0', 0],
  ['-1', -1],
  ['1.5', 1.5],
  ['1e308', 1e308],
  ['2**64', 2 ** 64],
  ['MAX_SAFE_INTEGER + 2', Number.MAX_SAFE_INTEGER + 2],
  ['"NaN"', 'NaN'],
  ['NaN (null in JSON)', Number.NaN],
  ['"12" (number as text)', '12'],
  ['"abc"', 'abc'],
  ['""', ''],
  ['[]', []],
  ['["x"]', ['x']],
  ['{}', {}],
  ['{nested object}', { $gt: '' }],
]

/** Hostile strings: too long, NUL bytes, lone surrogates, only whitespace, control characters. */
const STRING_VALUES: [string, unknown][] = [
  ['10,000 characters', 'x'.repeat(10_000)],
  ['a NUL byte inside', 'a\u0000b'],
  ['only a NUL byte', '\u0000'],
  ['a lone high surrogate', 'a\ud800b'],
  ['a lone low surrogate', '\udc00'],
  ['only whitespace', ' \t\n '],
  ['control characters', '\u0001\u001b[2J\u007f'],
  ['SQL', "x' OR '1'='1"],
]

/** Ids that are not ids, and an id that does not exist. */
const NUMBER_VALUES: [string, unknown][] = [
  ['1e308', 1e308],
  ['2**64', 2 ** 64],
  ['-1', -1],
  ['0', 0],
  ['1.5', 1.5],
  ['"NaN"', 'NaN'],
  ['an id that does not exist', 987_654_321],
]

/** Fields nobody may set: mass assignment must be refused, not ignored. */
const EXTRA_FIELDS: [string, unknown][] = [
  ['isAdmin', true],
  ['password_hash', '$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA'],
  ['token_hash', 'ab'.repeat(32)],
  ['id', 1],
  ['senderId', 1],
  ['role', 'admin'],
]

interface Mutation {
  label: string
  value: unknown
}

/** Payload variations of an object schema: each field wrong, missing, hostile; extra fields. */
function fieldMutations(schema: JsonSchema, base: () => Record<string, unknown>): Mutation[] {
  const out: Mutation[] = []
  for (const field of fieldsOf(schema)) {
    const type = leafType(field.schema)
    const values = [
      ...WRONG_VALUES,
      ...(type === 'string' ? STRING_VALUES : []),
      ...(type === 'integer' || type === 'number' ? NUMBER_VALUES : []),
    ]
    for (const [label, value] of values) {
      out.push({ label: `${field.name} = ${label}`, value: { ...base(), [field.name]: value } })
    }
    if (field.required) {
      const { [field.name]: _dropped, ...rest } = base()
      out.push({ label: `${field.name} missing`, value: rest })
    }
  }
  for (const [name, value] of EXTRA_FIELDS) {
    out.push({ label: `unknown extra field ${name}`, value: { ...base(), [name]: value } })
  }
  return out
}

/** What the relay receives for a JSON-encoded value (NaN becomes null, undefined disappears). */
const overJson = (value: unknown): unknown => JSON.parse(JSON.stringify([value]))[0]

// ---------------------------------------------------------------------------------------------
// HTTP cases and how an answer is judged.

type Expectation =
  /** Exactly this status and code. */
  | { kind: 'exact'; status: number; code: keyof typeof errorCodes }
  /** Any error with this status. */
  | { kind: 'status'; status: number }
  /** Any 4xx error. */
  | { kind: 'error' }
  /** The input is valid after all: anything but a 5xx (and a proper envelope if it is an error). */
  | { kind: 'any' }

const validationFailed: Expectation = { kind: 'exact', status: 400, code: 'validation_failed' }
const invalidJson: Expectation = { kind: 'exact', status: 400, code: 'invalid_json' }
const tooLarge: Expectation = { kind: 'exact', status: 413, code: 'payload_too_large' }
const unsupported: Expectation = { kind: 'exact', status: 415, code: 'unsupported_media_type' }
const unauthorized: Expectation = { kind: 'exact', status: 401, code: 'unauthorized' }

interface HttpCase {
  label: string
  method: string
  path: string
  headers?: Record<string, string>
  body?: string | Buffer
  /** Leave out the Authorization header the route would otherwise get. */
  anonymous?: boolean
  expect: Expectation
}

/** Why an answer is wrong, or null when it is right. */
function judge(result: RawResult, expectation: Expectation): string | null {
  const got = `got ${result.status} ${result.text.slice(0, 160)}`
  if (result.status >= 500) return `a ${result.status}: ${got}`
  if (result.status >= 400) {
    const body = result.body as { error?: { code?: unknown; message?: unknown } } | undefined
    const error = body?.error
    if (
      !body ||
      typeof body !== 'object' ||
      Object.keys(body).join() !== 'error' ||
      !error ||
      typeof error !== 'object' ||
      Object.keys(error).sort().join() !== 'code,message' ||
      typeof error.message !== 'string' ||
      error.message === ''
    ) {
      return `the error is not {error: {code, message}}: ${got}`
    }
    if (!isErrorCode(error.code)) return `unknown error code: ${got}`
    if (errorCodes[error.code].status !== result.status)
      return `${error.code} is ${errorCodes[error.code].status}, not ${result.status}: ${got}`
    if (!String(result.headers['content-type']).startsWith('application/json'))
      return `the error is not sent as JSON (${result.headers['content-type']}): ${got}`
  }
  switch (expectation.kind) {
    case 'exact': {
      const code = (result.body as { error?: { code?: string } } | undefined)?.error?.code
      return result.status === expectation.status && code === expectation.code
        ? null
        : `expected ${expectation.status} ${expectation.code}, ${got}`
    }
    case 'status':
      return result.status === expectation.status ? null : `expected ${expectation.status}, ${got}`
    case 'error':
      return result.status >= 400 && result.status < 500 ? null : `expected a 4xx, ${got}`
    case 'any':
      return null
  }
}

const NONEXISTENT_ID = 987_654_321
const coercingAjv = createAjv({ coerceTypes: true })

/** Whether the relay's URL validator (which coerces text to the schema's types) accepts `value`. */
function urlValid(schema: Type.TSchema, value: unknown): boolean {
  return coercingAjv.validate(schema as object, structuredClone(value)) === true
}

/**
 * The route's path with its first parameter set to `first` and any others to valid values, and
 * the parameters as the relay's validator sees them.
 */
function fillParams(
  url: string,
  first: string | number,
  ids: SampleIds,
): { path: string; params: Record<string, string> } {
  const params: Record<string, string> = {}
  let index = 0
  const path = url.replace(/:(\w+)/g, (_match, name: string) => {
    const value = index++ === 0 ? String(first) : name === 'userId' ? String(ids.peer) : ids.code
    params[name] = value
    return value
  })
  return { path, params }
}
const toQuery = (values: Record<string, unknown>) =>
  Object.entries(values)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&')

/** The whole battery for one route. `ids` are real ids the caller may use. */
function httpCases(route: RouteSpec, ids: SampleIds): HttpCase[] {
  const cases: HttpCase[] = []
  const fillPath = (url: string, first: string | number) => fillParams(url, first, ids).path
  const json = { 'content-type': 'application/json' }
  const validId = route.url.startsWith('/users/')
    ? ids.self
    : route.url.startsWith('/contacts/')
      ? ids.peer
      : route.url.startsWith('/messages/')
        ? ids.message
        : route.url.startsWith('/groups/')
          ? ids.group
          : route.url.startsWith('/invites/')
            ? ids.code
            : ids.self
  const query = route.querystring
    ? `?${toQuery(sample(asJson(route.querystring), ids) as Record<string, unknown>)}`
    : ''
  const path = `${fillPath(route.url, validId)}${query}`
  const sampleBody = () => (route.body ? (sample(asJson(route.body), ids) as Record<string, unknown>) : {})
  const sampleText = () => JSON.stringify(sampleBody())
  const bodyExpectation = (value: unknown): Expectation =>
    route.body && !validate(route.body, overJson(value)).ok ? validationFailed : { kind: 'any' }

  if (route.method !== 'GET') {
    // A route without a body still parses one; aim those at an id that does not exist so that
    // input which turns out to be acceptable changes nothing.
    const bodyPath = route.body ? path : `${fillPath(route.url, NONEXISTENT_ID)}${query}`
    const add = (label: string, body: string | Buffer | undefined, expect: Expectation, ct = json) =>
      cases.push({
        label: `body: ${label}`,
        method: route.method,
        path: bodyPath,
        ...(body !== undefined && { body, headers: ct }),
        expect,
      })
    add('none at all', undefined, route.body ? validationFailed : { kind: 'any' })
    add('empty with a JSON Content-Type', '', invalidJson)
    for (const text of ['{bad', '[', 'nul', '{"a":1,}', "{'a':1}", '{"a":"\\x"}', '\u0000', '{"a":1}}'])
      add(`malformed JSON ${JSON.stringify(text)}`, text, invalidJson)
    add('bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x7b, 0x80]), invalidJson)
    add('a __proto__ key', `{"__proto__":{"isAdmin":true},${sampleText().slice(1)}`, { kind: 'error' })
    add('a constructor.prototype key', `{"constructor":{"prototype":{"isAdmin":true}}}`, { kind: 'error' })
    for (const [label, value] of [
      ['an array', []],
      ['a string', 'text'],
      ['a number', 42],
      ['null', null],
      ['true', true],
      ['an array holding a valid body', [sampleBody()]],
    ] as const) {
      add(`JSON ${label}`, JSON.stringify(value), bodyExpectation(value))
    }
    if (route.body) {
      for (const m of fieldMutations(asJson(route.body), sampleBody))
        add(m.label, JSON.stringify(m.value), bodyExpectation(m.value))
    }
    const firstString = route.body
      ? fieldsOf(asJson(route.body)).find((f) => leafType(f.schema) === 'string')?.name
      : undefined
    add(
      'a 100,000-character string (over the 64 KB body limit)',
      JSON.stringify({ ...sampleBody(), [firstString ?? 'pad']: 'x'.repeat(100_000) }),
      tooLarge,
    )
    add('a 1 MB array', JSON.stringify(new Array(250_000).fill(1)), tooLarge)
    add('1,000 levels of nesting', `${'['.repeat(1000)}${']'.repeat(1000)}`, bodyExpectation([]))
    // A multipart route reads multipart bodies: a broken or empty one is a 400, not a 415.
    const multipart = route.consumes === 'multipart/form-data'
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/vnd.api+json',
    ]) {
      const expected = multipart && contentType.startsWith('multipart/') ? validationFailed : unsupported
      add(`valid JSON sent as ${contentType}`, sampleText(), expected, { 'content-type': contentType })
    }
    add('a form body', 'username=a&password=b', unsupported, {
      'content-type': 'application/x-www-form-urlencoded',
    })
    add(
      'a multipart body',
      '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n',
      multipart ? validationFailed : unsupported,
      {
        'content-type': 'multipart/form-data; boundary=x',
      },
    )
  } else {
    for (const body of ['{bad', '{"isAdmin":true}']) {
      cases.push({
        label: `a GET with body ${body}`,
        method: 'GET',
        path,
        body,
        headers: json,
        expect: { kind: 'any' },
      })
    }
  }

  if (route.params) {
    for (const raw of [
      'abc',
      '-1',
      '0',
      '1.5',
      '1e400',
      '99999999999999999999',
      '9007199254740992',
      'NaN',
      'null',
      'true',
      '%00',
      '%20',
      '1%00',
      '%F0%9F%91%8D',
      String(NONEXISTENT_ID),
    ]) {
      const filled = fillParams(route.url, raw, ids)
      const params = Object.fromEntries(
        Object.entries(filled.params).map(([k, v]) => [k, decodeURIComponent(v)]),
      )
      cases.push({
        label: `path id ${raw}`,
        method: route.method,
        path: `${filled.path}${query}`,
        ...(route.body && { body: sampleText(), headers: json }),
        expect: urlValid(route.params, params) ? { kind: 'error' } : validationFailed,
      })
    }
    for (const raw of ['%ZZ', '%', '%E0%A4%A']) {
      cases.push({
        label: `path id that is not valid percent-encoding ${raw}`,
        method: route.method,
        path: `${fillPath(route.url, raw)}${query}`,
        ...(route.body && { body: sampleText(), headers: json }),
        expect: { kind: 'status', status: 400 },
      })
    }
  }

  if (route.querystring) {
    const schema = route.querystring
    const base = sample(asJson(schema), ids) as Record<string, unknown>
    const targetPath =
      route.method === 'GET' || route.body
        ? fillPath(route.url, validId)
        : fillPath(route.url, NONEXISTENT_ID)
    const addQuery = (label: string, qs: string) =>
      cases.push({
        label: `query: ${label}`,
        method: route.method,
        path: `${targetPath}?${qs}`,
        ...(route.body && { body: sampleText(), headers: json }),
        expect: urlValid(schema, { ...parseQuery(qs) }) ? { kind: 'any' } : validationFailed,
      })
    for (const field of fieldsOf(asJson(schema))) {
      const others = Object.fromEntries(Object.entries(base).filter(([k]) => k !== field.name))
      const rest = toQuery(others)
      const join = (qs: string) => [rest, qs].filter(Boolean).join('&')
      for (const raw of [
        'abc',
        '-1',
        '0',
        '1.5',
        '1e400',
        '99999999999999999999',
        'NaN',
        'true',
        '',
        '%00',
        'a%00b',
        '%ZZ',
        '%uD800',
        '%ED%A0%80',
        'x'.repeat(10_000),
      ]) {
        addQuery(`${field.name}=${raw.slice(0, 20)}`, join(`${field.name}=${raw}`))
      }
      const value = encodeURIComponent(String(base[field.name]))
      addQuery(`${field.name} repeated`, join(`${field.name}=${value}&${field.name}=${value}`))
      addQuery(`${field.name} as an array`, join(`${field.name}[]=${value}`))
      addQuery(`${field.name} as an object`, join(`${field.name}[a]=${value}`))
      if (field.required) addQuery(`${field.name} missing`, rest)
    }
    for (const extra of [
      'isAdmin=true',
      '__proto__=1',
      'constructor=1',
      'hasOwnProperty=1',
      'password_hash=x',
    ]) {
      addQuery(`unknown extra parameter ${extra}`, `${toQuery(base)}&${extra}`)
    }
    addQuery('no parameters at all', '')
  } else if (route.method === 'GET') {
    for (const qs of ['x=1&x=2', '__proto__[isAdmin]=true', `${'a='.repeat(500)}`]) {
      cases.push({
        label: `query: unexpected ?${qs.slice(0, 30)}`,
        method: 'GET',
        path: `${path}?${qs}`,
        expect: { kind: 'any' },
      })
    }
  }

  if (route.auth) {
    const target =
      route.method === 'GET' || route.body ? path : `${fillPath(route.url, NONEXISTENT_ID)}${query}`
    for (const authorization of [
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'a'.repeat(5000)}`,
      'Bearer ../../etc/passwd',
      'Bearer x, Bearer y',
      `Bearer ${'x'.repeat(43)}`,
    ]) {
      cases.push({
        label: `Authorization: ${authorization.slice(0, 30)}`,
        method: route.method,
        path: target,
        anonymous: true,
        headers: { authorization, ...(route.body && json) },
        ...(route.body && { body: sampleText() }),
        expect: unauthorized,
      })
    }
  }
  return cases
}

// ---------------------------------------------------------------------------------------------
// Socket.IO: an untyped view, so events and payloads can be anything.

interface LooseSocket {
  connected: boolean
  emit(event: string, ...args: unknown[]): void
  timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> }
  io: { engine: { send(data: string): void } }
}
const loose = (socket: ClientSocket) => socket as unknown as LooseSocket

function judgeAck(ack: unknown, mustFail: boolean): string | null {
  const got = `got ${JSON.stringify(ack)?.slice(0, 200)}`
  if (!ack || typeof ack !== 'object') return `the ack is not an object: ${got}`
  const result = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } }
  if (result.ok === true) return mustFail ? `accepted: ${got}` : null
  if (
    result.ok !== false ||
    Object.keys(result).sort().join() !== 'error,ok' ||
    !result.error ||
    typeof result.error !== 'object' ||
    Object.keys(result.error).sort().join() !== 'code,message' ||
    typeof result.error.message !== 'string'
  ) {
    return `the ack is not {ok: false, error: {code, message}}: ${got}`
  }
  if (!isErrorCode(result.error.code)) return `unknown error code: ${got}`
  if (result.error.code === 'internal_error') return `internal_error: ${got}`
  if (mustFail && result.error.code !== 'validation_failed') return `expected validation_failed, ${got}`
  return null
}

/** Connects and resolves with the connect_error the handshake ends with (or rejects if it connects). */
function refusedHandshake(base: string, auth?: Record<string, unknown>): Promise<Error & { data?: unknown }> {
  const socket = io(base, {
    ...(auth && { auth }),
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  })
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.close()
      reject(new Error('the handshake was accepted'))
    })
    socket.once('connect_error', (error) => {
      socket.close()
      resolve(error)
    })
  })
}

const eventNames = Object.keys(clientEvents) as ClientEventName[]
const routeEntries = Object.entries(routes) as [string, RouteSpec][]

const withRelay = relayTests()

describe.each(dialects)('bad input never crashes the relay (%s)', (dialect) => {
  const it = withRelay[dialect]
  let relay: TestRelay
  let fuzzer: TestUser
  let peer: TestUser
  let messageId: number
  let groupId: number
  let code: string
  const ids = (): SampleIds => ({
    self: fuzzer.user.id,
    peer: peer.user.id,
    message: messageId,
    group: groupId,
    code,
  })

  it.beforeAll(async ({ relay: started }) => {
    relay = started
    fuzzer = await registerUser(relay.url)
    peer = await registerUser(relay.url)
    await befriend(fuzzer, peer)
    messageId = (await sendMessage(fuzzer, peer, 'the message the battery aims at')).message.id
    groupId = (await createGroup(fuzzer, [peer], 'The battery’s group')).id
    code = (await makeInvite(fuzzer, groupId)).code
  })

  /** The battery may sign the fuzzer out (DELETE /logout with a body it ignores): sign in again. */
  async function keepSignedIn() {
    const session = await http(relay.url, 'GET', '/session', { token: fuzzer.token })
    if (session.status === 200) return
    const login = await http<{ token: string }>(relay.url, 'POST', '/login', {
      body: { username: fuzzer.user.username, password: fuzzer.password },
    })
    expect(login.status).toBe(200)
    fuzzer.token = login.body.token
  }

  describe('HTTP', () => {
    it('the battery covers every route in the table', () => {
      expect(routeEntries.length).toBeGreaterThanOrEqual(18)
      for (const [, route] of routeEntries) expect(httpCases(route, ids()).length).toBeGreaterThan(3)
    })

    it.each(routeEntries)(
      '%s: every malformed request gets a 4xx with the error envelope',
      async (_name, route) => {
        const cases = httpCases(route, ids())
        const failures: string[] = []
        for (const c of cases) {
          const headers = { ...c.headers }
          if (route.auth && !c.anonymous) headers.authorization = `Bearer ${fuzzer.token}`
          const result = await rawRequest(relay.url, c.method, c.path, {
            headers,
            ...(c.body !== undefined && { body: c.body }),
          })
          const problem = judge(result, c.expect)
          if (problem) failures.push(`${c.method} ${c.path.slice(0, 80)} [${c.label}]: ${problem}`)
          if (result.status < 300) await keepSignedIn()
        }
        expect(failures).toEqual([])
      },
    )

    it('an unknown route or method is a 404 not_found with the envelope', async () => {
      for (const [method, path] of [
        ['GET', '/nope'],
        ['PUT', '/users'],
        ['POST', '/health'],
        ['GET', '/users/1/extra'],
        ['GET', '//users'],
        ['GET', `/${'a'.repeat(5000)}`],
      ] as const) {
        const result = await rawRequest(relay.url, method, path, {
          headers: { authorization: `Bearer ${fuzzer.token}` },
        })
        expect(
          judge(result, { kind: 'exact', status: 404, code: 'not_found' }),
          `${method} ${path}`,
        ).toBeNull()
      }
    })

    it('a request the HTTP parser rejects still gets the error envelope', async () => {
      // Content-Length and Transfer-Encoding together: Node refuses it before Fastify routes it.
      const result = await rawRequest(relay.url, 'POST', '/login', {
        headers: {
          'content-type': 'application/json',
          'content-length': '2',
          'transfer-encoding': 'chunked',
        },
        body: '0\r\n\r\n',
      })
      expect(judge(result, { kind: 'status', status: 400 })).toBeNull()
    })
  })

  describe('Socket.IO', () => {
    let socketUser: TestUser
    let socketPeer: TestUser
    let socket: ClientSocket
    let target: number
    let socketGroup: number
    const socketIds = (): SampleIds => ({
      self: socketUser.user.id,
      peer: socketPeer.user.id,
      message: target,
      group: socketGroup,
      code,
    })

    beforeAll(async () => {
      socketUser = await registerUser(relay.url)
      socketPeer = await registerUser(relay.url)
      await befriend(socketUser, socketPeer)
      target = (await sendMessage(socketUser, socketPeer, 'socket target')).message.id
      socketGroup = (await createGroup(socketUser, [socketPeer])).id
      socket = await connect(relay.url, socketUser.token)
    })
    afterAll(() => {
      socket?.close()
    })

    async function stillUsable(s: ClientSocket) {
      expect(s.connected).toBe(true)
      const ack = await emit(s, 'sync', { after: 0, limit: 1 })
      expect(ack.ok).toBe(true)
    }

    it.each(eventNames)(
      'a well-formed %s is accepted (so the battery aims at real handlers)',
      async (event) => {
        const fresh = (await sendMessage(socketUser, socketPeer, `fresh for ${event}`)).message.id
        const payload = sample(asJson(clientEvents[event].payload), { ...socketIds(), message: fresh })
        const ack = await loose(socket).timeout(5000).emitWithAck(event, payload)
        expect(ack, JSON.stringify(payload)).toMatchObject({ ok: true })
      },
    )

    it('well-formed group payloads are accepted too (the other side of each "exactly one of")', async () => {
      const fresh = (await sendMessage(socketUser, socketPeer, 'fresh')).message.id
      const sent = await emit(socket, 'message', {
        clientId: randomUUID(),
        groupId: socketGroup,
        text: 'in the group',
      })
      expect(sent).toMatchObject({ ok: true, message: { groupId: socketGroup } })
      const groupMessage = sent.ok ? sent.message.id : fresh
      for (const [event, payload] of [
        ['delivered', { group: socketGroup, upTo: groupMessage }],
        ['read', { group: socketGroup, upTo: groupMessage }],
        ['typing', { group: socketGroup, typing: true }],
        ['reaction', { messageId: groupMessage, emoji: '👍' }],
        ['message_updated', { id: groupMessage, text: 'edited in the group' }],
        ['message_deleted', { id: groupMessage }],
      ] as const) {
        const ack = await loose(socket).timeout(5000).emitWithAck(event, payload)
        expect(ack, `${event} ${JSON.stringify(payload)}`).toMatchObject({ ok: true })
      }
    })

    it.each(eventNames)('%s: every malformed payload is refused through the ack', async (event) => {
      const schema = clientEvents[event].payload as Type.TSchema
      const base = () => sample(asJson(schema), socketIds()) as Record<string, unknown>
      const payloads: Mutation[] = [
        { label: 'undefined', value: undefined },
        { label: 'null', value: null },
        { label: '0', value: 0 },
        { label: '42', value: 42 },
        { label: '-1', value: -1 },
        { label: '1e308', value: 1e308 },
        { label: 'a string', value: 'payload' },
        { label: 'an empty string', value: '' },
        { label: 'true', value: true },
        { label: 'an array', value: [] },
        { label: 'an array holding a valid payload', value: [base()] },
        { label: '{}', value: {} },
        { label: '10,000-character string', value: 'x'.repeat(10_000) },
        ...fieldMutations(asJson(schema), base),
      ]
      const failures: string[] = []
      for (const { label, value } of payloads) {
        const ack = await loose(socket)
          .timeout(5000)
          .emitWithAck(event, value)
          .catch((error: Error) => `no ack: ${error.message}`)
        const problem = judgeAck(ack, !validate(schema, overJson(value)).ok)
        if (problem) failures.push(`[${label}]: ${problem}`)
      }
      for (const [label, value] of [
        ['a Buffer', Buffer.from('binary payload')],
        ['a Buffer in a field', { ...base(), [fieldsOf(asJson(schema))[0]!.name]: Buffer.from('x') }],
        ['a Uint8Array', new Uint8Array([1, 2, 3])],
      ] as const) {
        const ack = await loose(socket)
          .timeout(5000)
          .emitWithAck(event, value)
          .catch((error: Error) => `no ack: ${error.message}`)
        const problem = judgeAck(ack, true)
        if (problem) failures.push(`[${label}]: ${problem}`)
      }
      // Only a callback: the relay treats the callback as the ack and the payload as missing.
      const onlyAck = await loose(socket)
        .timeout(5000)
        .emitWithAck(event)
        .catch((error: Error) => `no ack: ${error.message}`)
      const problem = judgeAck(onlyAck, true)
      if (problem) failures.push(`[no payload, only a callback]: ${problem}`)
      expect(failures).toEqual([])
      await stillUsable(socket)
    })

    it('an event with extra arguments before its callback is still answered, with validation_failed', async () => {
      const failures = await Promise.all(
        eventNames.map(async (event) => {
          const payload = sample(asJson(clientEvents[event].payload), socketIds())
          const ack = await loose(socket)
            .timeout(2000)
            .emitWithAck(event, payload, 'an extra argument')
            .catch((error: Error) => `no ack: ${error.message}`)
          const problem = judgeAck(ack, true)
          return problem ? `${event}: ${problem}` : null
        }),
      )
      expect(failures.filter(Boolean)).toEqual([])
      await stillUsable(socket)
    })

    it('events without an ack callback, and unknown events, do not crash the relay or the socket', async () => {
      for (const event of eventNames) {
        for (const value of [
          undefined,
          null,
          42,
          'x',
          [],
          {},
          Buffer.from('x'),
          { ...(sample(asJson(clientEvents[event].payload), socketIds()) as object), isAdmin: true },
        ]) {
          loose(socket).emit(event, value)
        }
      }
      for (const event of [
        'nope',
        'constructor',
        '__proto__',
        'hasOwnProperty',
        'toString',
        'x'.repeat(5000),
      ]) {
        loose(socket).emit(event, { after: 0 })
        loose(socket).emit(event)
      }
      // Nothing handles an unknown event, so no answer is fine; an answer must be a refusal.
      const unknown = await loose(socket)
        .timeout(500)
        .emitWithAck('no_such_event', {})
        .catch(() => null)
      if (unknown !== null) expect(judgeAck(unknown, false)).toBeNull()
      if (unknown !== null) expect(unknown).toMatchObject({ ok: false })
      await stillUsable(socket)
      expect((await http(relay.url, 'GET', '/health')).status).toBe(200)
    })

    it('malformed Socket.IO packets close at most their own connection', async () => {
      const bystander = await connect(relay.url, socketUser.token)
      for (const packet of [
        '2[bad json',
        '2"a string"',
        '2[]',
        '2[42]',
        '2{}',
        '2[null,{}]',
        '2["sync"',
        '2["sync",{"after":0}]extra',
        '21x["sync",{"after":0}]',
        '51-["sync",{"_placeholder":true,"num":0}]',
        '9',
        'garbage',
        '',
      ]) {
        const victim = await connect(relay.url, socketUser.token)
        loose(victim).io.engine.send(packet)
        await sleep(50)
        victim.close()
      }
      await stillUsable(bystander)
      bystander.close()
      expect((await http(relay.url, 'GET', '/health')).status).toBe(200)
    })

    it('a message over maxHttpBufferSize (64 KB) disconnects only that socket', async () => {
      const bystander = await connect(relay.url, socketUser.token)
      const victim = await connect(relay.url, socketUser.token)
      const reason = new Promise<string>((resolve) => victim.once('disconnect', (r) => resolve(r)))
      loose(victim).emit('message', {
        clientId: randomUUID(),
        recipientId: socketPeer.user.id,
        text: 'x'.repeat(100_000),
      })
      expect(await Promise.race([reason, sleep(5000).then(() => 'still connected after 5 s')])).toMatch(
        /transport (close|error)|io server disconnect/,
      )
      await stillUsable(bystander)
      bystander.close()
      expect((await http(relay.url, 'GET', '/health')).status).toBe(200)
      const again = await connect(relay.url, socketUser.token)
      await stillUsable(again)
      again.close()
    })

    it('the handshake without a usable token is refused with connect_error unauthorized', async () => {
      const revoked = await http<{ token: string }>(relay.url, 'POST', '/login', {
        body: { username: socketUser.user.username, password: socketUser.password },
      })
      expect((await http(relay.url, 'DELETE', '/logout', { token: revoked.body.token })).status).toBe(204)
      const variants: [string, Record<string, unknown> | undefined][] = [
        ['no auth at all', undefined],
        ['auth without a token', {}],
        ['a numeric token', { token: 1234567890123456 }],
        ['an object token', { token: { $ne: null } }],
        ['an array token', { token: [socketUser.token] }],
        ['an empty token', { token: '' }],
        ['a short token', { token: 'abc' }],
        ['an unknown token', { token: 'x'.repeat(43) }],
        ['a 10,000-character token', { token: 'x'.repeat(10_000) }],
        ['a token with a NUL byte', { token: `${socketUser.token.slice(0, 20)}\u0000${'y'.repeat(22)}` }],
        ['a revoked token', { token: revoked.body.token }],
      ]
      for (const [label, auth] of variants) {
        const error = await refusedHandshake(relay.url, auth)
        expect(error.message, label).toBe('unauthorized')
        expect(error.data, label).toEqual({ code: 'unauthorized', message: expect.any(String) })
      }
      await stillUsable(socket)
    })
  })

  it('after the whole battery the relay is healthy and a valid user can still message', async () => {
    const health = await http<{ status: string }>(relay.url, 'GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body.status).toBe('ok')
    const a = await registerUser(relay.url)
    const b = await registerUser(relay.url)
    await befriend(a, b)
    const listener = await connect(relay.url, b.token)
    const arrived = new Promise<{ data: { text: string | null } }>((resolve) =>
      listener.once('message', (event) => resolve(event)),
    )
    const sent = await sendMessage(a, b, 'still standing')
    expect(sent.message.text).toBe('still standing')
    expect((await arrived).data.text).toBe('still standing')
    const page = await http<{ messages: { id: number }[] }>(relay.url, 'GET', `/messages?with=${a.user.id}`, {
      token: b.token,
    })
    expect(page.body.messages.map((m) => m.id)).toEqual([sent.message.id])
    listener.close()
  })
})
