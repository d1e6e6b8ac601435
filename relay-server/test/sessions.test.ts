import type { AuthResponse, SessionListResponse } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, http, registerUser, type TestUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { startRelay, type TestRelay } from './helpers/relay'

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

describe.each(dialects)('passwords and sessions (%s)', (dialect) => {
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startRelay({ dialect })
  })
  afterAll(() => relay.close())

  async function signIn(user: TestUser, deviceName?: string, password = user.password): Promise<string> {
    const result = await http<AuthResponse>(relay.url, 'POST', '/login', {
      body: { username: user.user.username, password, ...(deviceName && { deviceName }) },
    })
    expect(result.status).toBe(200)
    return result.body.token
  }
  const sessionsOf = async (token: string) =>
    (await http<SessionListResponse>(relay.url, 'GET', '/sessions', { token })).body.sessions
  const sessionIsLive = async (token: string) =>
    (await http(relay.url, 'GET', '/session', { token })).status === 200

  it('lists your sessions with the name each device gave, when, from where, and which is this one', async () => {
    const user = await registerUser(relay.url)
    const laptop = await signIn(user, "Ada's laptop")
    const list = await http<SessionListResponse>(relay.url, 'GET', '/sessions', { token: laptop })
    expect(list.status).toBe(200)
    expect(list.body.sessions).toHaveLength(2)
    const mine = list.body.sessions.find((s) => s.current)
    expect(mine).toEqual({
      id: expect.any(Number),
      deviceName: "Ada's laptop",
      createdAt: expect.any(Number),
      lastUsedAt: expect.any(Number),
      address: '127.0.0.1',
      current: true,
    })
    const other = list.body.sessions.find((s) => !s.current)
    expect(other).toMatchObject({ deviceName: null, address: '127.0.0.1', current: false })
  })

  it('registration names its first session too', async () => {
    const user = await registerUser(relay.url, { deviceName: 'Phone' })
    expect(await sessionsOf(user.token)).toEqual([
      expect.objectContaining({ deviceName: 'Phone', current: true }),
    ])
  })

  it('refuses a device name that is empty, too long or carries control characters', async () => {
    const user = await registerUser(relay.url)
    for (const deviceName of ['', ' ', 'x'.repeat(65), 'evil\u001b[2J', 'line\nbreak', 'a\u0000b']) {
      const result = await http(relay.url, 'POST', '/login', {
        body: { username: user.user.username, password: user.password, deviceName },
      })
      expect({ deviceName, status: result.status, body: result.body }).toEqual({
        deviceName,
        status: 400,
        body: { error: { code: 'validation_failed', message: expect.stringContaining('deviceName') } },
      })
    }
  })

  it('changing the password signs out every other session and cuts its sockets, but keeps this one', async () => {
    const user = await registerUser(relay.url, { password: 'the old password' })
    const laptop = await signIn(user, 'Laptop')
    const phone = await signIn(user, 'Phone')
    const phoneSocket = await connect(relay.url, phone)
    const laptopSocket = await connect(relay.url, laptop)
    try {
      const told = new Promise<unknown>((resolve) => phoneSocket.on('session_ended', resolve))
      const cut = new Promise<string>((resolve) => phoneSocket.on('disconnect', resolve))
      const changed = await http(relay.url, 'POST', '/password', {
        token: laptop,
        body: { currentPassword: 'the old password', newPassword: 'a brand new password' },
      })
      expect(changed.status).toBe(204)
      expect(await told).toEqual({ reason: 'signed_out' })
      expect(await cut).toBe('io server disconnect')
      expect(await sessionIsLive(phone)).toBe(false)
      expect(await sessionIsLive(user.token)).toBe(false)
      expect(await sessionIsLive(laptop)).toBe(true)
      expect(laptopSocket.connected).toBe(true)
      expect((await sessionsOf(laptop)).map((s) => s.deviceName)).toEqual(['Laptop'])

      const old = await http(relay.url, 'POST', '/login', {
        body: { username: user.user.username, password: 'the old password' },
      })
      expect(old.status).toBe(401)
      await signIn(user, undefined, 'a brand new password')
    } finally {
      phoneSocket.close()
      laptopSocket.close()
    }
  })

  it('a wrong current password is invalid_credentials and changes nothing', async () => {
    const user = await registerUser(relay.url)
    const other = await signIn(user)
    const refused = await http(relay.url, 'POST', '/password', {
      token: user.token,
      body: { currentPassword: 'not my password', newPassword: 'a brand new password' },
    })
    expect(refused.status).toBe(401)
    expect(refused.body).toEqual({ error: { code: 'invalid_credentials', message: expect.any(String) } })
    expect(await sessionIsLive(other)).toBe(true)
    expect(await sessionIsLive(user.token)).toBe(true)
    await signIn(user)
  })

  it('the new password follows the rules of registration', async () => {
    const user = await registerUser(relay.url)
    const refused = await http(relay.url, 'POST', '/password', {
      token: user.token,
      body: { currentPassword: user.password, newPassword: 'short' },
    })
    expect(refused.status).toBe(400)
    expect(refused.body).toMatchObject({ error: { code: 'validation_failed' } })
    await signIn(user)
  })

  it('DELETE /sessions/:id signs out that device and cuts its sockets; the rest go on', async () => {
    const user = await registerUser(relay.url)
    const lost = await signIn(user, 'Lost laptop')
    const socket = await connect(relay.url, lost)
    try {
      const cut = new Promise<string>((resolve) => socket.on('disconnect', resolve))
      const id = (await sessionsOf(user.token)).find((s) => s.deviceName === 'Lost laptop')!.id
      expect((await http(relay.url, 'DELETE', `/sessions/${id}`, { token: user.token })).status).toBe(204)
      expect(await cut).toBe('io server disconnect')
      expect(await sessionIsLive(lost)).toBe(false)
      expect(await sessionIsLive(user.token)).toBe(true)
      const again = await http(relay.url, 'DELETE', `/sessions/${id}`, { token: user.token })
      expect(again.status).toBe(404)
      expect(again.body).toEqual({ error: { code: 'session_not_found', message: expect.any(String) } })
    } finally {
      socket.close()
    }
  })

  it("someone else's session is not found, and lives on", async () => {
    const owner = await registerUser(relay.url)
    const stranger = await registerUser(relay.url)
    const [ownerSession] = await sessionsOf(owner.token)
    const refused = await http(relay.url, 'DELETE', `/sessions/${ownerSession!.id}`, {
      token: stranger.token,
    })
    expect(refused.status).toBe(404)
    expect(refused.body).toEqual({ error: { code: 'session_not_found', message: expect.any(String) } })
    expect(await sessionIsLive(owner.token)).toBe(true)
    expect((await sessionsOf(stranger.token)).map((s) => s.id)).not.toContain(ownerSession!.id)
  })

  it('DELETE /sessions signs out every session but this one', async () => {
    const user = await registerUser(relay.url)
    const others = [await signIn(user), await signIn(user)]
    const socket = await connect(relay.url, others[0]!)
    try {
      const cut = new Promise<string>((resolve) => socket.on('disconnect', resolve))
      expect((await http(relay.url, 'DELETE', '/sessions', { token: user.token })).status).toBe(204)
      expect(await cut).toBe('io server disconnect')
      for (const token of others) expect(await sessionIsLive(token)).toBe(false)
      expect((await sessionsOf(user.token)).map((s) => s.current)).toEqual([true])
    } finally {
      socket.close()
    }
  })
})

describe.each(dialects)('session use and lifetime (%s)', (dialect) => {
  let now = Date.UTC(2026, 0, 1)
  let relay: TestRelay
  beforeAll(async () => {
    relay = await startRelay({
      dialect,
      clock: () => now,
      env: { SESSION_TTL_DAYS: '2', SESSION_MAX_DAYS: '5' },
    })
  })
  afterAll(() => relay.close())

  const sessionRowOf = (userId: number) =>
    relay.app.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).executeTakeFirstOrThrow()

  it('records the last use at most once a minute', async () => {
    const user = await registerUser(relay.url)
    const sessionRow = () => sessionRowOf(user.user.id)
    const started = (await sessionRow()).last_used_at
    now += 59_000
    await http(relay.url, 'GET', '/session', { token: user.token })
    expect((await sessionRow()).last_used_at).toBe(started)
    now += 1_000
    await http(relay.url, 'GET', '/session', { token: user.token })
    expect((await sessionRow()).last_used_at).toBe(now)
    const recorded = now
    now += 30_000
    await http(relay.url, 'GET', '/contacts', { token: user.token })
    expect((await sessionRow()).last_used_at).toBe(recorded)
  })

  it('ends a session SESSION_MAX_DAYS after it started, however often it is used', async () => {
    const user = await registerUser(relay.url)
    const started = now
    for (let day = 1; day <= 4; day++) {
      now = started + day * DAY
      const session = await http<{ expiresAt: number }>(relay.url, 'GET', '/session', { token: user.token })
      expect({ day, status: session.status }).toEqual({ day, status: 200 })
      expect(session.body.expiresAt).toBe(Math.min(now + 2 * DAY, started + 5 * DAY))
    }
    now = started + 5 * DAY
    expect((await http(relay.url, 'GET', '/session', { token: user.token })).status).toBe(401)
  })
})
