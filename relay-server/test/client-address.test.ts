import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { SessionListResponse } from '@parley/shared'
import { describe, expect, it } from 'vitest'
import { http as call, registerUser } from './helpers/client'
import { startRelay } from './helpers/relay'

/**
 * A reverse proxy as the old documented nginx config made one (`X-Forwarded-For
 * $proxy_add_x_forwarded_for`): it appends the address it sees to whatever the client sent.
 */
async function startAppendingProxy(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const upstream = new URL(target)
  const server = http.createServer((request, response) => {
    const seen = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    const sent = request.headers['x-forwarded-for']
    const forwarded = sent ? `${sent}, ${seen}` : seen
    const proxied = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, 'x-forwarded-for': forwarded },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      },
    )
    request.pipe(proxied)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** A JSON POST from a chosen local address (Linux routes all of 127/8 to loopback). */
function postFrom(localAddress: string, url: string, body: unknown, headers: Record<string, string>) {
  return new Promise<number>((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      localAddress,
      headers: { 'content-type': 'application/json', ...headers },
    })
    request.on('response', (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('error', reject)
    request.end(JSON.stringify(body))
  })
}

describe('the client address behind a reverse proxy', () => {
  it.each([
    ['a hop count', '1'],
    ["the proxy's address", '127.0.0.1'],
  ])(
    'TRUST_PROXY as %s: a rotating X-Forwarded-For from the client does not escape the per-address sign-in limit',
    async (_label, trustProxy) => {
      const relay = await startRelay({ env: { TRUST_PROXY: trustProxy, RATE_LIMIT_AUTH_PER_MINUTE: '6' } })
      const proxy = await startAppendingProxy(relay.url)
      try {
        // The client is at 127.0.0.2, the proxy at 127.0.0.1.
        const statuses: number[] = []
        for (let i = 0; i < 7; i++) {
          const body = { username: `someone${i}`, password: 'a password' }
          statuses.push(
            await postFrom('127.0.0.2', `${proxy.url}/login`, body, { 'x-forwarded-for': `10.0.${i}.1` }),
          )
        }
        expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429])
      } finally {
        await proxy.close()
        await relay.close()
      }
    },
  )

  it.each([
    ['1', '203.0.113.5'],
    ['127.0.0.1, ::1', '203.0.113.5'],
    ['2', '198.51.100.1'],
    ['', '127.0.0.1'],
  ])("with TRUST_PROXY='%s' a session is recorded as coming from %s", async (trustProxy, expected) => {
    const relay = await startRelay({ env: { TRUST_PROXY: trustProxy } })
    try {
      const user = await registerUser(relay.url)
      // This test is the proxy (at 127.0.0.1); the client before it claimed to be 198.51.100.1.
      const response = await fetch(`${relay.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.1, 203.0.113.5' },
        body: JSON.stringify({
          username: user.user.username,
          password: user.password,
          deviceName: 'proxied',
        }),
      })
      expect(response.status).toBe(200)
      const list = await call<SessionListResponse>(relay.url, 'GET', '/sessions', { token: user.token })
      expect(list.body.sessions.find((s) => s.deviceName === 'proxied')?.address).toBe(expected)
    } finally {
      await relay.close()
    }
  })
})
