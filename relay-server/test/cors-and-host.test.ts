import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelay, type TestRelay } from './helpers/relay'

/** A request with headers fetch will not let a caller set (Host). */
function request(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = http.request(`${base}${path}`, { method, headers })
    sent.on('response', (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
      })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
    })
    sent.on('error', reject)
    sent.end()
  })
}

const HANDSHAKE = '/socket.io/?EIO=4&transport=polling'

describe('CORS is off unless origins are listed', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startRelay()
  })
  afterAll(() => relay.close())

  it('a page on another origin gets no CORS headers from routes, preflights or the socket handshake', async () => {
    const origin = { origin: 'https://evil.example' }
    const health = await request(relay.url, 'GET', '/health', origin)
    expect(health.status).toBe(200)
    expect(health.headers['access-control-allow-origin']).toBeUndefined()
    const preflight = await request(relay.url, 'OPTIONS', '/login', {
      ...origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    })
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined()
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined()
    const handshake = await request(relay.url, 'GET', HANDSHAKE, origin)
    expect(handshake.status).toBe(200)
    expect(handshake.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('CORS_ORIGINS is an allowlist', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startRelay({ env: { CORS_ORIGINS: 'https://app.example.org' } })
  })
  afterAll(() => relay.close())

  it('answers a listed origin and only it', async () => {
    for (const path of ['/health', HANDSHAKE]) {
      const listed = await request(relay.url, 'GET', path, { origin: 'https://app.example.org' })
      expect(listed.headers['access-control-allow-origin'], path).toBe('https://app.example.org')
      const other = await request(relay.url, 'GET', path, { origin: 'https://evil.example' })
      expect(other.headers['access-control-allow-origin'], path).toBeUndefined()
    }
  })
})

describe('PUBLIC_URL: the Host must be the public one', () => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startRelay({ env: { PUBLIC_URL: 'https://chat.example.org' } })
  })
  afterAll(() => relay.close())

  it('a request for another host is refused with 421 wrong_host, before any route runs', async () => {
    for (const [method, path] of [
      ['GET', '/health'],
      ['POST', '/login'],
      ['GET', '/nowhere'],
    ] as const) {
      const refused = await request(relay.url, method, path, { host: 'attacker.example' })
      expect({ path, status: refused.status, body: JSON.parse(refused.body) }).toEqual({
        path,
        status: 421,
        body: { error: { code: 'wrong_host', message: expect.stringContaining('chat.example.org') } },
      })
    }
  })

  it('a socket handshake for another host is refused too', async () => {
    const refused = await request(relay.url, 'GET', HANDSHAKE, { host: 'attacker.example' })
    expect(refused.status).toBe(403)
    expect(refused.body).toContain('wrong_host')
    const allowed = await request(relay.url, 'GET', HANDSHAKE, { host: 'chat.example.org' })
    expect(allowed.status).toBe(200)
  })

  it('the public host (with or without its default port) and loopback names pass', async () => {
    for (const host of [
      'chat.example.org',
      'CHAT.example.org',
      'chat.example.org:443',
      'localhost:8080',
      '127.0.0.1:8080',
      '[::1]:8080',
    ]) {
      const answer = await request(relay.url, 'GET', '/health', { host })
      expect({ host, status: answer.status }).toEqual({ host, status: 200 })
    }
    for (const host of ['chat.example.org:8443', 'chat.example.org.evil.example', 'example.org']) {
      const answer = await request(relay.url, 'GET', '/health', { host })
      expect({ host, status: answer.status }).toEqual({ host, status: 421 })
    }
  })
})
