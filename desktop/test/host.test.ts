import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  type BridgeEvent,
  type BridgeMethod,
  type BridgeParams,
  type BridgeResult,
  dmKey,
} from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { silentLogger } from '../src/core/logger'
import { HOST_FILE } from '../src/host/host-file'
import { type RunningHost, startHost, TOKEN_REFUSED } from '../src/host/server'
import { fastTiming, waitFor } from './helpers/core'
import { startRelay, type TestRelay } from './helpers/relay'

interface Client {
  call<M extends BridgeMethod>(method: M, params: BridgeParams<M>): Promise<BridgeResult<M>>
  raw(text: string): Promise<unknown>
  events: { event: BridgeEvent; payload: unknown }[]
  close(): void
}

/** A renderer stand-in: speaks the bridge's WebSocket frames. */
async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url, { headers })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  let next = 1
  const waiting = new Map<number | null, (result: unknown) => void>()
  const events: Client['events'] = []
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as {
      type: string
      id: number | null
      result: unknown
      event: BridgeEvent
      payload: unknown
    }
    if (frame.type === 'event') events.push({ event: frame.event, payload: frame.payload })
    else waiting.get(frame.id)?.(frame.result)
  })
  const request = (id: number | null, text: string) =>
    new Promise<unknown>((resolve) => {
      waiting.set(id, resolve)
      ws.send(text)
    })
  return {
    call: (method, params) => {
      const id = next++
      return request(id, JSON.stringify({ type: 'invoke', id, method, params })) as never
    },
    raw: (text) => request(null, text),
    events,
    close: () => ws.close(),
  }
}

async function refusal(url: string, headers: Record<string, string> = {}): Promise<number> {
  const ws = new WebSocket(url, { headers })
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the host accepted the connection')))
    ws.once('unexpected-response', (_, response) => resolve(response.statusCode ?? 0))
    ws.once('error', () => resolve(-1))
  })
}

const dirs: string[] = []
const hosts: RunningHost[] = []
let relay: TestRelay

async function newHost(
  options: { rendererDir?: string; dataDir?: string; token?: string } = {},
): Promise<RunningHost> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'parley-host-'))
  dirs.push(dataDir)
  const host = await startHost({ dataDir, logger: silentLogger, timing: fastTiming, ...options })
  hosts.push(host)
  return host
}

/** What the host says to a page that asks (GET) why its socket to the bridge did not open. */
async function bridgeCheck(host: RunningHost, token: string) {
  const response = await fetch(`http://127.0.0.1:${host.port}/bridge?token=${encodeURIComponent(token)}`)
  const text = await response.text()
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null }
}

beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const host of hosts) await host.close()
  await relay.close()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('the browser-mode host', () => {
  it('refuses a bridge connection without the right token', async () => {
    const host = await newHost()
    const base = `ws://127.0.0.1:${host.port}/bridge`
    expect(await refusal(`${base}?token=wrong`)).toBe(401)
    expect(await refusal(`${base}?token=${host.token.slice(0, -1)}`)).toBe(401)
    expect(await refusal(base)).toBe(401)
    expect(await refusal(`ws://127.0.0.1:${host.port}/elsewhere?token=${host.token}`)).toBe(404)
  })

  it('keeps its token and port in the data folder, readable only by its user, and prints the same address after a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-host-'))
    const first = await newHost({ dataDir })
    const file = path.join(dataDir, HOST_FILE)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ token: first.token, port: first.port })
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await first.close()

    const second = await newHost({ dataDir })
    expect(second.url).toBe(first.url)
    const client = await connect(second.bridgeUrl)
    expect(await client.call('connection.get', {})).toMatchObject({ ok: true })
    client.close()
  })

  it('starts with a token it is given, and refuses one that could be guessed', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-host-'))
    const given = 'a-token-chosen-by-whoever-runs-it_0123456789'
    const host = await newHost({ dataDir, token: given })
    expect(host.url).toContain(`token=${given}`)
    await host.close()
    // Kept for the next start without one, so the address stays the same.
    expect((await newHost({ dataDir })).token).toBe(given)
    await expect(
      startHost({
        dataDir: mkdtempSync(path.join(tmpdir(), 'parley-host-')),
        token: 'short',
        logger: silentLogger,
      }),
    ).rejects.toThrow(/32 to 256/)
  })

  it('replaces a token file that is not its own, and closes one that others can read', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-host-'))
    const file = path.join(dataDir, HOST_FILE)
    writeFileSync(file, 'not json')
    const fresh = await newHost({ dataDir })
    expect(JSON.parse(readFileSync(file, 'utf8')).token).toBe(fresh.token)
    await fresh.close()

    chmodSync(file, 0o644)
    const again = await newHost({ dataDir })
    expect(again.token).toBe(fresh.token)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('tells a page with a token from an earlier start that its address is stale', async () => {
    const host = await newHost()
    const stale = await bridgeCheck(host, 'x'.repeat(43))
    expect(stale).toMatchObject({ status: 401, body: { error: { code: TOKEN_REFUSED } } })
    expect(await bridgeCheck(host, '')).toMatchObject({
      status: 401,
      body: { error: { code: TOKEN_REFUSED } },
    })
    // With the right token the question has no answer but "use a WebSocket".
    expect((await bridgeCheck(host, host.token)).status).toBe(426)
  })

  it('refuses a page from another origin even with the token', async () => {
    const host = await newHost()
    expect(await refusal(host.bridgeUrl, { origin: 'https://evil.example' })).toBe(403)
    const own = await connect(host.bridgeUrl, { origin: `http://127.0.0.1:${host.port}` })
    own.close()
  })

  it('serves the built renderer with a strict policy, and nothing outside it', async () => {
    const rendererDir = mkdtempSync(path.join(tmpdir(), 'parley-renderer-'))
    dirs.push(rendererDir)
    mkdirSync(path.join(rendererDir, 'assets'))
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Parley</title>')
    writeFileSync(path.join(rendererDir, 'assets', 'app-1234.js'), 'console.log(1)')
    writeFileSync(path.join(path.dirname(rendererDir), 'secret.txt'), 'not for the page')
    const host = await newHost({ rendererDir })

    const page = await fetch(host.url)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<title>Parley</title>')
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
    expect(page.headers.get('cache-control')).toBe('no-store')
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${host.port}`)

    const script = await fetch(`http://127.0.0.1:${host.port}/assets/app-1234.js`)
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toContain('text/javascript')
    expect(script.headers.get('cache-control')).toContain('immutable')

    expect((await fetch(`http://127.0.0.1:${host.port}/assets/missing.js`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${host.port}/%2e%2e/secret.txt`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${host.port}/..%2fsecret.txt`)).status).toBe(404)
    expect((await fetch(host.url, { method: 'POST' })).status).toBe(405)
    // A malformed escape is refused, and the host is still there afterwards.
    expect((await fetch(`http://127.0.0.1:${host.port}/%E0%A4%A`)).status).toBe(400)
    expect((await fetch(host.url)).status).toBe(200)
  })

  it('says how to build the renderer when it is missing', async () => {
    const host = await newHost({ rendererDir: path.join(tmpdir(), 'parley-no-such-renderer') })
    const page = await fetch(host.url)
    expect(page.status).toBe(503)
    expect(await page.text()).toContain('npm run build:renderer')
  })

  it('answers bridge calls, refuses malformed frames, and validates params', async () => {
    const host = await newHost()
    const client = await connect(host.bridgeUrl)
    expect(await client.call('connection.get', {})).toMatchObject({ ok: true, value: { state: 'offline' } })
    expect(await client.call('messages.send', { conversation: 'dm:-1', text: '' } as never)).toMatchObject({
      ok: false,
      error: { code: 'invalid_params' },
    })
    expect(await client.raw('not json')).toMatchObject({ ok: false, error: { code: 'invalid_params' } })
    expect(
      await client.raw(JSON.stringify({ type: 'invoke', method: 'auth.session', params: {} })),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_params' },
    })
    client.close()
  })

  it('two hosts with their own data folders chat, and events reach their pages', async () => {
    const one = await newHost()
    const two = await newHost()
    const alice = await connect(one.bridgeUrl)
    const bob = await connect(two.bridgeUrl)
    const register = async (client: Client, name: string) => {
      const username = `${name}${process.pid}${Math.random().toString(36).slice(2, 6)}`
      const result = await client.call('auth.register', {
        relayUrl: relay.url,
        username,
        password: 'correct horse battery',
        firstName: name,
        lastName: 'Host',
        email: `${username}@example.com`,
      })
      if (!result.ok) throw new Error(result.error.message)
      return result.value
    }
    const a = await register(alice, 'alice')
    const b = await register(bob, 'bob')
    expect(alice.events.some((e) => e.event === 'session.changed')).toBe(true)
    await alice.call('contacts.add', { username: b.user.username })
    await bob.call('contacts.accept', { userId: a.user.id })
    await waitFor(async () => {
      const state = await alice.call('connection.get', {})
      return state.ok && state.value.state === 'online'
    })
    await alice.call('messages.send', { conversation: dmKey(b.user.id), text: 'over the host' })
    await waitFor(() =>
      bob.events.some(
        (e) =>
          e.event === 'messages.changed' &&
          (e.payload as { messages: { text: string }[] }).messages.some((m) => m.text === 'over the host'),
      ),
    )
    await waitFor(() =>
      bob.events.some((e) => e.event === 'unread.changed' && (e.payload as { total: number }).total === 1),
    )
    alice.close()
    bob.close()
  })
})
