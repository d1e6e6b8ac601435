/**
 * docs/API.md checked against the protocol in shared/, so the document cannot drift from the relay.
 *
 * The document is read as Markdown: `##`/`###` headings make sections, fenced blocks are examples.
 * Every ```json and ```http block must sit right under a marker comment that says what it is:
 *
 *   <!-- example: METHOD /path http -->            ```http: request line and headers of that route
 *   <!-- example: METHOD /path request -->         ```json: routes[...].body
 *   <!-- example: METHOD /path response STATUS --> ```json: routes[...].response; STATUS = its status
 *   <!-- example: METHOD /path error STATUS -->    ```json: ErrorBody; a code of that section, that status
 *   <!-- example: error STATUS -->                 ```json: ErrorBody with a code of that status
 *   <!-- example: socket NAME payload -->          ```json: clientEvents[NAME].payload
 *   <!-- example: socket NAME ack -->              ```json: {ok: true, ...result} or {ok: false, error}
 *   <!-- example: socket connect_error -->         ```json: {message, data: {code, message}}
 *   <!-- example: event NAME -->                   ```json: the FeedEvent of type NAME, or typing /
 *                                                           user_status_change
 *
 * Route examples must sit in their route's `### METHOD /path` section, socket examples in their
 * event's section under `## Socket.IO`, event examples in theirs under `## Relay → client events`.
 * Route and event sections carry `**Errors:**` lines; the codes there must exist, and error examples
 * and failed acks may only use them (or the codes any request can meet, see ALWAYS_POSSIBLE).
 */
import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import {
  type ClientEventName,
  clientEvents as clientEventSchemas,
  createAjv,
  describeErrors,
  ErrorBody,
  type ErrorCode,
  errorCodes,
  FeedEvent,
  feedEventTypes,
  GroupEvent,
  GroupEventsQuery,
  GroupReceiptsEvent,
  isErrorCode,
  MessagePageQuery,
  MessageText,
  type RouteSpec,
  routes,
  SessionEndedEvent,
  StatusChangeEvent,
  Strict,
  SyncQuery,
  TypingEvent,
  UserSearchQuery,
  validate,
} from '@parley/shared'
import Type from 'typebox'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config'
import { bearerToken } from '../src/plugins/auth'
import { MAX_REACTIONS_PER_USER } from '../src/services/messages'

const DOC_URL = new URL('../../docs/API.md', import.meta.url)
const CONFIG_URL = new URL('../src/config.ts', import.meta.url)

const SOCKET_SECTION = 'Socket.IO'
const EVENTS_SECTION = 'Relay → client events'
const ERRORS_SECTION = 'Errors'
const LIMITS_SECTION = 'Limits'

/** Codes any request or event can meet; sections need not list them. */
const ALWAYS_POSSIBLE: readonly ErrorCode[] = ['rate_limited', 'internal_error', 'shutting_down']

/**
 * Examples that show the documented (intended) payload but that the current schema refuses. Each is
 * run as `it.fails`: once the schema is fixed the test fails, and the entry must be removed.
 */

const ConnectError = Strict({ message: Type.String(), data: ErrorBody.properties.error })

// ---------------------------------------------------------------------------------------------
// Reading the document.

interface Section {
  level: 2 | 3
  title: string
  /** The enclosing `##` title (its own title for a `##` section). */
  h2: string
  line: number
  /** The section's lines outside code blocks (up to the next heading of any level). */
  prose: string[]
}

interface Block {
  lang: string
  text: string
  line: number
  marker: string | null
  h2: string
  h3: string | null
}

interface Doc {
  sections: Section[]
  blocks: Block[]
  /** Marker comments not directly followed by a code block. */
  strayMarkers: { marker: string; line: number }[]
}

const MARKER = /^<!-- example: (.+?) -->$/

function parseDoc(text: string): Doc {
  const lines = text.split('\n')
  const sections: Section[] = []
  const blocks: Block[] = []
  const strayMarkers: Doc['strayMarkers'] = []
  let h2 = ''
  let current: Section | null = null
  let fence: { lang: string; line: number; body: string[]; marker: string | null } | null = null
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!
    const line = raw.trimEnd()
    const lineNo = index + 1
    if (fence) {
      if (line === '```') {
        const h3 = current?.level === 3 ? current.title : null
        blocks.push({
          lang: fence.lang,
          text: fence.body.join('\n'),
          line: fence.line,
          marker: fence.marker,
          h2,
          h3,
        })
        fence = null
      } else fence.body.push(raw)
      continue
    }
    const open = /^```(\S*)$/.exec(line)
    if (open) {
      const previous = MARKER.exec(lines[index - 1]?.trim() ?? '')
      fence = { lang: open[1] ?? '', line: lineNo, body: [], marker: previous?.[1]?.trim() ?? null }
      continue
    }
    const marker = MARKER.exec(line.trim())
    if (marker && !/^```/.test(lines[index + 1] ?? ''))
      strayMarkers.push({ marker: marker[1]!, line: lineNo })
    const heading = /^(#{2,3}) (.+)$/.exec(line)
    if (heading) {
      const level = heading[1]!.length as 2 | 3
      const title = heading[2]!.trim()
      if (level === 2) h2 = title
      current = { level, title, h2, line: lineNo, prose: [] }
      sections.push(current)
      continue
    }
    current?.prose.push(line)
  }
  if (fence) throw new Error(`docs/API.md: the code block opened on line ${fence.line} never closes`)
  return { sections, blocks, strayMarkers }
}

const doc = parseDoc(readFileSync(DOC_URL, 'utf8'))

const routeList: RouteSpec[] = Object.values(routes)
const routeKey = (route: RouteSpec) => `${route.method} ${route.url}`
const routesByKey = new Map(routeList.map((route) => [routeKey(route), route]))
const ROUTE_HEADING = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\/\S*)$/
const clientEvents = Object.keys(clientEventSchemas) as ClientEventName[]
const relayEvents: string[] = [
  ...feedEventTypes,
  'typing',
  'user_status_change',
  'group_event',
  'group_receipts',
  'session_ended',
]
const eventHeading = (name: string) => `\`${name}\``

const routeSections = doc.sections.filter((s) => s.level === 3 && ROUTE_HEADING.test(s.title))
const h3In = (h2: string) => doc.sections.filter((s) => s.level === 3 && s.h2 === h2)
const section = (h2: string, title: string) => doc.sections.find((s) => s.h2 === h2 && s.title === title)
const h2Section = (title: string) => doc.sections.find((s) => s.level === 2 && s.title === title)

/** The paragraphs of a section that start with `**Label:**`, without the label. */
function labelled(s: Section, label: string): string[] {
  const start = `**${label}:**`
  const found: string[] = []
  s.prose.forEach((line, i) => {
    if (!line.startsWith(start)) return
    // A labelled paragraph may wrap onto the following lines.
    const parts = [line.slice(start.length)]
    for (let j = i + 1; j < s.prose.length && !/^$|^\*\*/.test(s.prose[j]!.trim()); j++)
      parts.push(s.prose[j]!)
    found.push(parts.join(' ').trim())
  })
  return found
}

const codesIn = (text: string) => [...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!)

/** The codes a section's `**Errors:**` line names (empty when it has none). */
function sectionErrors(s: Section | undefined): string[] {
  if (!s) return []
  return labelled(s, 'Errors').flatMap(codesIn)
}

/** Table rows `| a | b | ... |` of a section, as trimmed cells; header and rule rows skipped. */
function tableRows(s: Section): string[][] {
  const rows = s.prose.filter((line) => line.startsWith('|')).map((line) => line.split('|').slice(1, -1))
  return rows.map((cells) => cells.map((c) => c.trim())).filter((cells) => !/^-+$/.test(cells[0] ?? ''))
}

// ---------------------------------------------------------------------------------------------
// Checking one example.

type Check = { ok: true } | { ok: false; message: string }
const pass: Check = { ok: true }
const failure = (message: string): Check => ({ ok: false, message })

const urlAjv = createAjv({ coerceTypes: true })

function checkSchema(schema: Type.TSchema, value: unknown): Check {
  const result = validate(schema, value)
  return result.ok ? pass : failure(result.message)
}

function checkError(value: unknown, status: number | null, allowed: readonly string[] | null): Check {
  const checked = checkSchema(ErrorBody, value)
  if (!checked.ok) return checked
  const code = (value as { error: { code: ErrorCode } }).error.code
  if (status !== null && errorCodes[code].status !== status)
    return failure(`'${code}' has status ${errorCodes[code].status}, not ${status}`)
  if (allowed && !allowed.includes(code) && !ALWAYS_POSSIBLE.includes(code))
    return failure(`'${code}' is not in the section's **Errors:** line`)
  return pass
}

function checkHttp(route: RouteSpec, text: string): Check {
  const [requestLine = '', ...headerLines] = text.trim().split('\n')
  const request = /^([A-Z]+) (\S+)$/.exec(requestLine.trim())
  if (!request) return failure(`the first line should be 'METHOD /path', not '${requestLine}'`)
  if (request[1] !== route.method) return failure(`the method is ${request[1]}, not ${route.method}`)
  const url = new URL(request[2]!, 'http://relay.invalid')
  const pattern = new RegExp(`^${route.url.replace(/:(\w+)/g, '(?<$1>[^/]+)')}$`)
  const path = pattern.exec(url.pathname)
  if (!path) return failure(`the path ${url.pathname} does not match ${route.url}`)
  if (route.params) {
    const check = urlAjv.compile(route.params)
    if (!check({ ...path.groups })) return failure(describeErrors(check.errors ?? [], 'params'))
  }
  const query = Object.fromEntries(url.searchParams)
  if (route.querystring) {
    const check = urlAjv.compile(route.querystring)
    if (!check(query)) return failure(describeErrors(check.errors ?? [], 'querystring'))
  } else if (url.search) return failure('the route takes no query string')
  const headers = new Map<string, string>()
  for (const line of headerLines) {
    const header = /^([\w-]+):\s*(.*)$/.exec(line.trim())
    if (!header) return failure(`'${line}' is not a header`)
    headers.set(header[1]!.toLowerCase(), header[2]!)
  }
  const authorization = headers.get('authorization')
  if (route.auth && (authorization === undefined || bearerToken(authorization) === null))
    return failure('the route needs an Authorization: Bearer <token> header the relay accepts')
  if (!route.auth && authorization !== undefined) return failure('the route takes no Authorization header')
  const contentType = headers.get('content-type')
  if ('consumes' in route && route.consumes) {
    if (!contentType?.startsWith(`${route.consumes}; boundary=`))
      return failure(`the route takes ${route.consumes}: show its Content-Type with a boundary`)
  } else if (route.body && contentType !== 'application/json')
    return failure('the route takes a body: show Content-Type: application/json')
  else if (!route.body && contentType !== undefined)
    return failure('the route takes no body: a Content-Type with an empty body is refused')
  return pass
}

function checkAck(name: ClientEventName, value: unknown, allowed: readonly string[]): Check {
  if (typeof value !== 'object' || value === null) return failure('an ack is an object')
  const { ok, ...rest } = value as { ok?: unknown }
  if (ok === true) return checkSchema(clientEventSchemas[name].result, rest)
  if (ok === false) return checkError(rest, null, allowed)
  return failure("an ack has 'ok': true or false")
}

function checkEvent(name: string, value: unknown): Check {
  if (name === 'typing') return checkSchema(TypingEvent, value)
  if (name === 'user_status_change') return checkSchema(StatusChangeEvent, value)
  if (name === 'session_ended') return checkSchema(SessionEndedEvent, value)
  if (name === 'group_event') return checkSchema(GroupEvent, value)
  if (name === 'group_receipts') return checkSchema(GroupReceiptsEvent, value)
  const variant = FeedEvent.anyOf.find((v) => v.properties.type.const === name)
  if (!variant) return failure(`'${name}' is not a feed event type`)
  const own = checkSchema(variant, value)
  return own.ok ? checkSchema(FeedEvent, value) : own
}

interface Example {
  marker: string
  block: Block
  /** Where the marker says the example belongs: [h2, h3] (h2 only for document-wide ones). */
  home: { h2?: string; h3: string } | null
  check: (value: unknown) => Check
  /** For `http` blocks the text is checked, not parsed as JSON. */
  checkText?: (text: string) => Check
  /** Coverage bookkeeping: e.g. 'POST /users request', 'socket message ack'. */
  kind: string
}

/** What a marker means, or an explanation of why it means nothing. */
function interpret(block: Block): Example | string {
  const marker = block.marker
  if (marker === null) return `the ${block.lang} block has no <!-- example: ... --> marker right above it`
  const expectLang = (lang: string) =>
    block.lang === lang ? null : `'${marker}' needs a \`\`\`${lang} block, not \`\`\`${block.lang}`
  let m = /^(GET|POST|PUT|PATCH|DELETE) (\/\S*) (http|request|response|error)(?: (\d{3}))?$/.exec(marker)
  if (m) {
    const key = `${m[1]} ${m[2]}`
    const route = routesByKey.get(key)
    if (!route) return `'${marker}' names no route in the routes table`
    const what = m[3]!
    const status = m[4] === undefined ? null : Number(m[4])
    const home = { h3: key }
    const base = { marker, block, home, kind: `${key} ${what}` }
    const routeSection = routeSections.find((s) => s.title === key)
    switch (what) {
      case 'http':
        return (
          expectLang('http') ?? { ...base, check: () => pass, checkText: (text) => checkHttp(route, text) }
        )
      case 'request':
        if (!route.body) return `${key} takes no body`
        return expectLang('json') ?? { ...base, check: (v) => checkSchema(route.body!, v) }
      case 'response':
        if (!route.response) return `${key} answers ${route.status} with no body`
        if (status !== route.status) return `${key} answers ${route.status}, not ${m[4] ?? 'no status'}`
        return expectLang('json') ?? { ...base, check: (v) => checkSchema(route.response!, v) }
      default:
        if (status === null) return `'${marker}' needs the status`
        return (
          expectLang('json') ?? { ...base, check: (v) => checkError(v, status, sectionErrors(routeSection)) }
        )
    }
  }
  m = /^error (\d{3})$/.exec(marker)
  if (m) {
    const status = Number(m[1])
    return (
      expectLang('json') ?? {
        marker,
        block,
        home: null,
        kind: 'error',
        check: (v) => checkError(v, status, null),
      }
    )
  }
  if (marker === 'socket connect_error') {
    const home = { h2: SOCKET_SECTION, h3: 'Connecting' }
    return (
      expectLang('json') ?? { marker, block, home, kind: marker, check: (v) => checkSchema(ConnectError, v) }
    )
  }
  m = /^socket (\w+) (payload|ack)$/.exec(marker)
  if (m) {
    const name = m[1] as ClientEventName
    if (!Object.hasOwn(clientEventSchemas, name)) return `'${name}' is not a client → relay event`
    const home = { h2: SOCKET_SECTION, h3: eventHeading(name) }
    const base = { marker, block, home, kind: marker }
    if (m[2] === 'payload')
      return expectLang('json') ?? { ...base, check: (v) => checkSchema(clientEventSchemas[name].payload, v) }
    const allowed = sectionErrors(section(SOCKET_SECTION, eventHeading(name)))
    return expectLang('json') ?? { ...base, check: (v) => checkAck(name, v, allowed) }
  }
  m = /^event (\w+)$/.exec(marker)
  if (m) {
    const name = m[1]!
    if (!relayEvents.includes(name)) return `'${name}' is not a relay → client event`
    const home = { h2: EVENTS_SECTION, h3: eventHeading(name) }
    return expectLang('json') ?? { marker, block, home, kind: marker, check: (v) => checkEvent(name, v) }
  }
  return `'${marker}' is not a known marker (see the top of api-docs.test.ts)`
}

const codeBlocks = doc.blocks.filter((b) => b.lang === 'json' || b.lang === 'http' || b.marker !== null)
const interpreted = codeBlocks.map((block) => ({ block, meaning: interpret(block) }))
const examples = interpreted.flatMap(({ meaning }) => (typeof meaning === 'string' ? [] : [meaning]))
const kinds = new Set(examples.map((e) => e.kind))

// ---------------------------------------------------------------------------------------------

describe('docs/API.md', () => {
  it('was read: it has sections and examples', () => {
    expect(doc.sections.length).toBeGreaterThan(20)
    expect(examples.length).toBeGreaterThan(40)
  })

  describe('HTTP routes', () => {
    it('has a "### METHOD /path" section for every route in the routes table', () => {
      const headings = routeSections.map((s) => s.title)
      const missing = routeList.map(routeKey).filter((key) => !headings.includes(key))
      expect(missing, 'routes with no section').toEqual([])
    })

    it('has no route section that is not in the routes table, and none twice', () => {
      const headings = routeSections.map((s) => s.title)
      expect(
        headings.filter((h) => !routesByKey.has(h)),
        'sections of unknown routes',
      ).toEqual([])
      expect(
        headings.filter((h, i) => headings.indexOf(h) !== i),
        'repeated sections',
      ).toEqual([])
      // A heading like "### GET  /users" or "### get /users" would escape both checks above.
      const lookalikes = doc.sections.filter(
        (s) => /^(get|post|put|patch|delete)\s/i.test(s.title) && !ROUTE_HEADING.test(s.title),
      )
      expect(
        lookalikes.map((s) => s.title),
        'malformed route headings',
      ).toEqual([])
    })

    it('states for every route whether it needs a token, its success status and its errors', () => {
      const problems: string[] = []
      for (const s of routeSections) {
        const route = routesByKey.get(s.title)
        if (!route) continue
        const auth = labelled(s, 'Auth')
        const expected = route.auth ? 'bearer token' : 'none'
        if (auth.length !== 1 || auth[0] !== expected)
          problems.push(`${s.title}: needs one '**Auth:** ${expected}' line`)
        const returns = labelled(s, 'Returns')
        if (returns.length !== 1 || /\d{3}/.exec(returns[0]!)?.[0] !== String(route.status))
          problems.push(`${s.title}: needs one '**Returns:**' line starting with \`${route.status}`)
        const errors = labelled(s, 'Errors')
        if (errors.length !== 1) problems.push(`${s.title}: needs one '**Errors:**' line`)
        const unknown = sectionErrors(s).filter((code) => !isErrorCode(code))
        if (unknown.length > 0) problems.push(`${s.title}: unknown error codes ${unknown.join(', ')}`)
        if (route.auth && !sectionErrors(s).includes('unauthorized'))
          problems.push(`${s.title}: needs a token, so it can answer 'unauthorized'`)
        if (
          (route.body || route.querystring || route.params) &&
          !sectionErrors(s).includes('validation_failed')
        )
          problems.push(`${s.title}: checks its input, so it can answer 'validation_failed'`)
      }
      expect(problems).toEqual([])
    })

    it('shows the request line of every route, and an example of every body and response', () => {
      const missing: string[] = []
      for (const route of routeList) {
        const key = routeKey(route)
        if (!kinds.has(`${key} http`)) missing.push(`${key} http`)
        if (route.body && !kinds.has(`${key} request`)) missing.push(`${key} request`)
        if (route.response && !kinds.has(`${key} response`)) missing.push(`${key} response ${route.status}`)
      }
      expect(missing, 'examples to add').toEqual([])
    })
  })

  describe('Socket.IO', () => {
    it('has a section for every client → relay event under "## Socket.IO", and no other', () => {
      const titles = h3In(SOCKET_SECTION)
        .map((s) => s.title)
        .filter((t) => t.startsWith('`'))
      expect([...titles].sort()).toEqual(clientEvents.map(eventHeading).sort())
    })

    it('has a section for every relay → client event under "## Relay → client events", and no other', () => {
      const titles = h3In(EVENTS_SECTION).map((s) => s.title)
      expect([...titles].sort()).toEqual(relayEvents.map(eventHeading).sort())
    })

    it('lists the errors of every client event, with known codes only', () => {
      const problems: string[] = []
      for (const name of clientEvents) {
        const s = section(SOCKET_SECTION, eventHeading(name))
        if (!s) continue // reported by the section test
        if (labelled(s, 'Errors').length !== 1) problems.push(`${name}: needs one '**Errors:**' line`)
        const codes = sectionErrors(s)
        const unknown = codes.filter((code) => !isErrorCode(code))
        if (unknown.length > 0) problems.push(`${name}: unknown error codes ${unknown.join(', ')}`)
        if (!codes.includes('validation_failed')) problems.push(`${name}: every payload is checked`)
      }
      expect(problems).toEqual([])
    })

    it('shows a payload and an ack of every client event, and an example of every relay event', () => {
      const missing = [
        ...clientEvents.flatMap((name) => [`socket ${name} payload`, `socket ${name} ack`]),
        ...relayEvents.map((name) => `event ${name}`),
        'socket connect_error',
      ].filter((kind) => !kinds.has(kind))
      expect(missing, 'examples to add').toEqual([])
    })
  })

  describe('errors', () => {
    const errorsSection = h2Section(ERRORS_SECTION)
    const rows = errorsSection
      ? tableRows(errorsSection).filter((cells) => /^`[a-z_]+`$/.test(cells[0] ?? ''))
      : []
    const listed = rows.map((cells) => ({ code: cells[0]!.slice(1, -1), status: cells[1] }))

    it('has an error table under "## Errors"', () => {
      expect(errorsSection).toBeDefined()
      expect(listed.length).toBeGreaterThan(0)
    })

    it('lists every error code of errors.ts with its status', () => {
      const wrong = Object.entries(errorCodes)
        .filter(
          ([code, { status }]) => !listed.some((row) => row.code === code && row.status === String(status)),
        )
        .map(([code, { status }]) => `${code} (${status})`)
      expect(wrong, 'codes missing from the table or listed with another status').toEqual([])
    })

    it('lists no code that errors.ts does not have, and none twice', () => {
      const codes = listed.map((row) => row.code)
      expect(
        codes.filter((code) => !isErrorCode(code)),
        'unknown codes',
      ).toEqual([])
      expect(
        codes.filter((code, i) => codes.indexOf(code) !== i),
        'repeated codes',
      ).toEqual([])
    })
  })

  describe('examples', () => {
    it('marks every json and http block, and every marker sits right above a code block', () => {
      const problems = [
        ...interpreted.flatMap(({ block, meaning }) =>
          typeof meaning === 'string' ? [`line ${block.line}: ${meaning}`] : [],
        ),
        ...doc.strayMarkers.map(
          ({ marker, line }) => `line ${line}: '${marker}' is not right above a code block`,
        ),
      ]
      expect(problems).toEqual([])
    })

    it('keeps every example in the section it belongs to', () => {
      const misplaced = examples
        .filter(({ home, block }) => home && (block.h3 !== home.h3 || (home.h2 && block.h2 !== home.h2)))
        .map(({ marker, block, home }) => `line ${block.line}: '${marker}' belongs under '${home!.h3}'`)
      expect(misplaced).toEqual([])
    })

    for (const example of examples) {
      it(`${example.marker} (line ${example.block.line}) is valid`, () => {
        let result: Check
        if (example.checkText) result = example.checkText(example.block.text)
        else {
          let value: unknown
          try {
            value = JSON.parse(example.block.text)
          } catch (error) {
            throw new Error(`line ${example.block.line}: not JSON: ${(error as Error).message}`)
          }
          result = example.check(value)
        }
        expect(result.ok ? 'valid' : result.message).toBe('valid')
      })
    }
  })

  describe('settings and limits', () => {
    const configSource = readFileSync(CONFIG_URL, 'utf8')
    const envNames = [...configSource.matchAll(/readInteger\(env, '([A-Z0-9_]+)'/g)].map((m) => m[1]!)
    const apiSettings = envNames.filter((name) =>
      /^(RATE_LIMIT|LOGIN_|SOCKET_|MAX_|SESSION_|GROUP_)/.test(name),
    )
    const documented = doc.sections
      .flatMap(tableRows)
      .filter((cells) => /^`[A-Z][A-Z0-9_]+`$/.test(cells[0] ?? '') && /^[\d,]+$/.test(cells[1] ?? ''))
      .map((cells) => ({ name: cells[0]!.slice(1, -1), value: Number(cells[1]!.replaceAll(',', '')) }))

    it('documents every rate-limit, size and session setting of config.ts', () => {
      expect(apiSettings.length).toBeGreaterThan(0)
      const names = documented.map((d) => d.name)
      expect(
        apiSettings.filter((name) => !names.includes(name)),
        'settings to document',
      ).toEqual([])
    })

    it('gives each documented setting its real name and default', () => {
      const defaults = loadConfig({})
      const wrong = documented.filter(({ name, value }) => {
        const same = isDeepStrictEqual(loadConfig({ [name]: String(value) }), defaults)
        let read: boolean
        try {
          read = !isDeepStrictEqual(loadConfig({ [name]: String(value + 1) }), defaults)
        } catch {
          read = true // refused as out of range: the relay does read it
        }
        return !same || !read
      })
      expect(
        wrong.map((w) => `${w.name} = ${w.value}`),
        'not a setting, or not its default',
      ).toEqual([])
    })

    it('states the limits the schemas and services enforce', () => {
      const limits = h2Section(LIMITS_SECTION)
      expect(limits).toBeDefined()
      const rows = new Map(tableRows(limits!).map((cells) => [cells[0]!, cells.slice(1).join(' | ')]))
      const n = (value: unknown) => Number(value).toLocaleString('en-US')
      const limit = (schema: Type.TSchema) => schema as unknown as { maximum: number; default: number }
      const expected: [string, string][] = [
        ['Message text', `1 to ${n((MessageText as unknown as { maxLength: number }).maxLength)} characters`],
        ['Reaction', `at most ${MAX_REACTIONS_PER_USER} different ones`],
        [
          '`GET /users`',
          `\`limit\` 1 to ${n(limit(UserSearchQuery.properties.limit).maximum)}, default ${n(limit(UserSearchQuery.properties.limit).default)}`,
        ],
        [
          '`GET /messages`',
          `\`limit\` 1 to ${n(limit(MessagePageQuery.properties.limit).maximum)}, default ${n(limit(MessagePageQuery.properties.limit).default)}`,
        ],
        [
          '`GET /groups/:id/events`',
          `\`limit\` 1 to ${n(limit(GroupEventsQuery.properties.limit).maximum)}, default ${n(limit(GroupEventsQuery.properties.limit).default)}`,
        ],
        [
          '`GET /sync` and socket `sync`',
          `\`limit\` 1 to ${n(limit(SyncQuery.properties.limit).maximum)}, default ${n(limit(SyncQuery.properties.limit).default)}`,
        ],
      ]
      const wrong = expected
        .filter(([row, text]) => !rows.get(row)?.includes(text))
        .map(([row, text]) => `${row}: should say '${text}'`)
      expect(wrong).toEqual([])
    })
  })
})
