import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, http, registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { startRelay, type TestRelay } from './helpers/relay'

describe.each(dialects)('accounts and sessions (%s)', (dialect) => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startRelay({ dialect })
  })
  afterAll(() => relay.close())

  it('registers a user and returns their own profile with a token, never the password hash', async () => {
    const result = await http(relay.url, 'POST', '/users', {
      body: {
        username: 'Grace.H',
        password: 'a long password',
        firstName: 'Grace',
        lastName: 'Hopper',
        email: 'grace@example.com',
      },
    })
    expect(result.status).toBe(201)
    const body = result.body as Record<string, unknown> & { user: Record<string, unknown>; token: string }
    expect(body.user).toMatchObject({
      username: 'Grace.H',
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'grace@example.com',
    })
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(JSON.stringify(body)).not.toMatch(/argon2|password/i)
  })

  it('refuses a username that differs only in case', async () => {
    await registerUser(relay.url, { username: 'CaseUser' })
    const again = await http(relay.url, 'POST', '/users', {
      body: {
        username: 'caseuser',
        password: 'another password',
        firstName: 'X',
        lastName: 'Y',
        email: 'x@example.com',
      },
    })
    expect(again.status).toBe(409)
    expect(again.body).toEqual({ error: { code: 'username_taken', message: expect.any(String) } })
  })

  it('stores the password with argon2id at OWASP strength and the token only as a hash', async () => {
    const user = await registerUser(relay.url)
    const row = await relay.app.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', user.user.id)
      .executeTakeFirstOrThrow()
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$/)
    const param = (name: string) => Number(row.password_hash.match(new RegExp(`[$,]${name}=(\\d+)`))?.[1])
    const [m, t, p] = [param('m'), param('t'), param('p')]
    expect(m).toBeGreaterThanOrEqual(19456)
    expect(t).toBeGreaterThanOrEqual(2)
    expect(p).toBeGreaterThanOrEqual(1)
    const sessions = await relay.app.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', user.user.id)
      .execute()
    expect(sessions).toHaveLength(1)
    expect(sessions[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(sessions[0]!.token_hash).not.toContain(user.token)
  })

  it('signs in with the right password (any case of the username) and not with a wrong one', async () => {
    const user = await registerUser(relay.url, { password: 'right password' })
    const ok = await http<{ token: string }>(relay.url, 'POST', '/login', {
      body: { username: user.user.username.toUpperCase(), password: 'right password' },
    })
    expect(ok.status).toBe(200)
    expect(ok.body.token).not.toBe(user.token)
    const wrong = await http(relay.url, 'POST', '/login', {
      body: { username: user.user.username, password: 'wrong password' },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.body).toMatchObject({ error: { code: 'invalid_credentials' } })
    const unknown = await http(relay.url, 'POST', '/login', {
      body: { username: 'nobody-here', password: 'whatever1' },
    })
    expect(unknown.status).toBe(401)
    expect(unknown.body).toMatchObject({ error: { code: 'invalid_credentials' } })
  })

  it('GET /session returns the owner with email; a missing or bad token is 401', async () => {
    const user = await registerUser(relay.url)
    const me = await http(relay.url, 'GET', '/session', { token: user.token })
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({
      user: { id: user.user.id, email: user.user.email },
      expiresAt: expect.any(Number),
    })
    expect((await http(relay.url, 'GET', '/session')).status).toBe(401)
    const bad = await http(relay.url, 'GET', '/session', { token: 'x'.repeat(43) })
    expect(bad.status).toBe(401)
    expect(bad.body).toMatchObject({ error: { code: 'unauthorized' } })
  })

  it('logout revokes only that session and disconnects its sockets', async () => {
    const user = await registerUser(relay.url)
    const second = await http<{ token: string }>(relay.url, 'POST', '/login', {
      body: { username: user.user.username, password: user.password },
    })
    const doomed = await connect(relay.url, user.token)
    const survivor = await connect(relay.url, second.body.token)
    const disconnected = new Promise<string>((resolve) => doomed.on('disconnect', resolve))
    const told = new Promise<unknown>((resolve) => doomed.on('session_ended', resolve))
    const out = await http(relay.url, 'DELETE', '/logout', { token: user.token })
    expect(out.status).toBe(204)
    expect(await told).toEqual({ reason: 'signed_out' })
    expect(await disconnected).toBe('io server disconnect')
    expect((await http(relay.url, 'GET', '/session', { token: user.token })).status).toBe(401)
    expect((await http(relay.url, 'GET', '/session', { token: second.body.token })).status).toBe(200)
    expect(survivor.connected).toBe(true)
    await expect(connect(relay.url, user.token)).rejects.toThrow(/unauthorized/)
    survivor.close()
  })
})

describe('session expiry', () => {
  it('an expired token is refused; a used one slides forward', async () => {
    let now = Date.UTC(2026, 0, 1)
    const relay = await startRelay({ clock: () => now, env: { SESSION_TTL_DAYS: '2' } })
    try {
      const user = await registerUser(relay.url)
      const day = 24 * 3600 * 1000
      now += 1.5 * day
      const used = await http<{ expiresAt: number }>(relay.url, 'GET', '/session', { token: user.token })
      expect(used.status).toBe(200)
      expect(used.body.expiresAt).toBe(now + 2 * day)
      now += 2 * day + 1
      expect((await http(relay.url, 'GET', '/session', { token: user.token })).status).toBe(401)
    } finally {
      await relay.close()
    }
  })
})

describe('sockets and token expiry', () => {
  it('a socket is cut when its token expires', async () => {
    const day = 24 * 3600 * 1000
    let now = Date.now()
    const relay = await startRelay({ clock: () => now, env: { SESSION_TTL_DAYS: '1' } })
    try {
      const user = await registerUser(relay.url)
      now += day - 400
      const socket = await connect(relay.url, user.token)
      const told = new Promise<unknown>((resolve) => socket.on('session_ended', resolve))
      const cut = await new Promise<string>((resolve) => socket.on('disconnect', resolve))
      expect(await told).toEqual({ reason: 'expired' })
      expect(cut).toBe('io server disconnect')
      now += 500
      await expect(connect(relay.url, user.token)).rejects.toThrow(/unauthorized/)
    } finally {
      await relay.close()
    }
  })
})

describe('rate limits', () => {
  it('slows a username down after repeated failed sign-ins, even with the right password', async () => {
    const relay = await startRelay({ env: { LOGIN_FREE_FAILURES: '3' } })
    try {
      const user = await registerUser(relay.url, { password: 'the real password' })
      for (let i = 0; i < 3; i++) {
        const r = await http(relay.url, 'POST', '/login', {
          body: { username: user.user.username, password: `guess ${i}` },
        })
        expect(r.status).toBe(401)
      }
      const locked = await http(relay.url, 'POST', '/login', {
        body: { username: user.user.username, password: 'the real password' },
      })
      expect(locked.status).toBe(429)
      expect(locked.body).toMatchObject({ error: { code: 'rate_limited' } })
    } finally {
      await relay.close()
    }
  })

  it('limits sign-in attempts per IP with 429 and Retry-After', async () => {
    const relay = await startRelay({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '2' } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) {
        const r = await http(relay.url, 'POST', '/login', {
          body: { username: `someone${i}`, password: 'password1' },
        })
        statuses.push(r.status)
        if (r.status === 429) {
          expect(r.body).toMatchObject({ error: { code: 'rate_limited' } })
          expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
        }
      }
      expect(statuses).toEqual([401, 401, 429])
    } finally {
      await relay.close()
    }
  })
})
