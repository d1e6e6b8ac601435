import { randomBytes } from 'node:crypto'
import type { AuthResponse } from '@parley/shared'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type FailureStore,
  MemoryFailureStore,
  RedisFailureStore,
  type ThrottlePolicy,
} from '../src/services/sign-in-throttle'
import { dialects } from './helpers/dialects'
import { startRelay, type TestRelay } from './helpers/relay'

const redisUrl = process.env.REDIS_URL
const policy: ThrottlePolicy = { maxDelayMs: 8000, memoryMs: 3_600_000 }

const redis = redisUrl ? new Redis(redisUrl, { lazyConnect: true }) : null
afterAll(async () => {
  await redis?.quit()
})

const stores: [string, () => FailureStore][] = [
  ['memory', () => new MemoryFailureStore(policy)],
  ...(redis
    ? [
        [
          'redis',
          () => new RedisFailureStore(redis, `parley-test-${randomBytes(4).toString('hex')}:`, policy),
        ] as [string, () => FailureStore],
      ]
    : []),
]

describe.each(stores)('sign-in failure counters (%s)', (_name, makeStore) => {
  const gate = (free = 3) => [{ key: 'k', free }]

  it('the first free failures cost nothing; then each attempt waits 1 s after the last, doubling up to the cap', async () => {
    const store = makeStore()
    let now = 1_000_000
    for (let i = 0; i < 3; i++) expect(await store.reserve(gate(), ['k'], now)).toBe(0)
    const waits: number[] = []
    for (let i = 0; i < 6; i++) {
      const wait = await store.reserve(gate(), ['k'], now)
      waits.push(wait)
      now += wait
      expect(await store.reserve(gate(), ['k'], now)).toBe(0)
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000])
  })

  it('a refused attempt charges nothing, so waiting is never pushed further', async () => {
    const store = makeStore()
    const now = 2_000_000
    for (let i = 0; i < 3; i++) await store.reserve(gate(), ['k'], now)
    expect(await store.reserve(gate(), ['k'], now)).toBe(1000)
    expect(await store.reserve(gate(), ['k'], now + 400)).toBe(600)
    expect(await store.reserve(gate(), ['k'], now + 999)).toBe(1)
    expect(await store.reserve(gate(), ['k'], now + 1000)).toBe(0)
  })

  it('parallel attempts cannot slip through before the first failures are counted', async () => {
    const store = makeStore()
    const results = await Promise.all(Array.from({ length: 10 }, () => store.reserve(gate(), ['k'], 5_000)))
    expect(results.filter((wait) => wait === 0)).toHaveLength(3)
  })

  it('each gate has its own allowance and the longest wait wins; charges go where they are told', async () => {
    const store = makeStore()
    const now = 3_000_000
    for (let i = 0; i < 5; i++) await store.reserve([], ['a', 'b'], now)
    expect(await store.reserve([{ key: 'a', free: 5 }], [], now)).toBe(1000)
    expect(
      await store.reserve(
        [
          { key: 'a', free: 5 },
          { key: 'b', free: 3 },
        ],
        [],
        now,
      ),
    ).toBe(4000)
    expect(await store.reserve([{ key: 'a', free: 6 }], [], now)).toBe(0)
    expect(await store.reserve([{ key: 'untouched', free: 1 }], [], now)).toBe(0)
  })

  it('a success gives its charge back, a clear forgets, and failures are forgotten after a while', async () => {
    const store = makeStore()
    const now = 4_000_000
    for (let i = 0; i < 3; i++) await store.reserve(gate(), ['k', 'j'], now)
    expect(await store.reserve(gate(), [], now)).toBe(1000)
    await store.release(['k'])
    expect(await store.reserve(gate(), [], now)).toBe(0)
    await store.release(['never-failed'])
    expect(await store.reserve([{ key: 'never-failed', free: 0 }], [], now)).toBe(0)
    expect(await store.reserve([{ key: 'j', free: 3 }], [], now)).toBe(1000)
    await store.clear(['j'])
    expect(await store.reserve([{ key: 'j', free: 1 }], [], now)).toBe(0)
    for (let i = 0; i < 3; i++) await store.reserve([], ['m'], now)
    expect(await store.reserve([{ key: 'm', free: 3 }], [], now + policy.memoryMs - 1)).toBe(0)
    expect(await store.reserve([{ key: 'm', free: 1 }], [], now + policy.memoryMs)).toBe(0)
  })
})

describe.each(dialects)('failed sign-ins slow down (%s)', (dialect) => {
  let now = Date.UTC(2026, 2, 1)
  let relay: TestRelay
  let counter = 0
  const HOME = '198.51.100.7'
  const PASSWORD = 'the right password'

  beforeAll(async () => {
    relay = await startRelay({
      dialect,
      clock: () => now,
      env: { LOGIN_FREE_FAILURES: '3', LOGIN_FREE_FAILURES_PER_ADDRESS: '6', LOGIN_MAX_DELAY_SECONDS: '60' },
    })
  })
  afterAll(() => relay.close())

  async function register(from: string): Promise<string> {
    const username = `slow${++counter}x${randomBytes(3).toString('hex')}`
    const result = await relay.app.inject({
      method: 'POST',
      url: '/users',
      remoteAddress: from,
      payload: {
        username,
        password: PASSWORD,
        firstName: 'S',
        lastName: 'L',
        email: `${username}@example.com`,
      },
    })
    expect(result.statusCode).toBe(201)
    return username
  }

  async function login(username: string, password: string, from: string) {
    const result = await relay.app.inject({
      method: 'POST',
      url: '/login',
      remoteAddress: from,
      payload: { username, password },
    })
    return { status: result.statusCode, retryAfter: result.headers['retry-after'], body: result.json() }
  }
  const statusOf = async (username: string, password: string, from: string) =>
    (await login(username, password, from)).status

  it('after LOGIN_FREE_FAILURES wrong passwords the next attempt waits, even with the right one, then passes', async () => {
    const username = await register(HOME)
    const attacker = '203.0.113.10'
    for (let i = 0; i < 3; i++) expect(await statusOf(username, `guess ${i}`, attacker)).toBe(401)
    const slowed = await login(username, PASSWORD, attacker)
    expect(slowed).toEqual({
      status: 429,
      retryAfter: '1',
      body: { error: { code: 'rate_limited', message: expect.stringContaining('1 s') } },
    })
    now += 1000
    expect(await statusOf(username, 'guess 3', attacker)).toBe(401)
    expect((await login(username, PASSWORD, attacker)).retryAfter).toBe('2')
    now += 2000
    expect(await statusOf(username, PASSWORD, attacker)).toBe(200)
  })

  it('failures from elsewhere do not slow down a device that signed in from its address before', async () => {
    const username = await register(HOME)
    // Guesses from ever new addresses: each address is under its allowance, the username is not.
    const statuses: number[] = []
    for (let host = 1; host <= 6; host++)
      statuses.push(await statusOf(username, 'a guess', `203.0.113.${20 + host}`))
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429])
    expect(await statusOf(username, PASSWORD, '203.0.113.99')).toBe(429)
    expect(await statusOf(username, PASSWORD, HOME)).toBe(200)
  })

  it('an IPv6 device is known by its /64, where it picks new addresses at will', async () => {
    const username = await register('2001:db8:5:6::10')
    for (let i = 0; i < 4; i++) await statusOf(username, `guess ${i}`, `2001:db8:99:${i}::1`)
    expect(await statusOf(username, PASSWORD, '2001:db8:99:77::1')).toBe(429)
    expect(await statusOf(username, PASSWORD, '2001:db8:5:6:a1b2:c3d4:e5f6:1')).toBe(200)
  })

  it('one address failing for many usernames is slowed down, but not for a user who signed in from it', async () => {
    const shared = '192.0.2.50'
    const neighbour = await register(shared)
    const victims = await Promise.all(Array.from({ length: 7 }, () => register(HOME)))
    for (const victim of victims.slice(0, 6)) expect(await statusOf(victim, 'a guess', shared)).toBe(401)
    expect(await statusOf(victims[6]!, PASSWORD, shared)).toBe(429)
    expect(await statusOf(`nobody${counter}`, 'a guess', shared)).toBe(429)
    expect(await statusOf(neighbour, PASSWORD, shared)).toBe(200)
  })

  it('a successful sign-in wipes its own slate: the next typo is not slowed down', async () => {
    const username = await register(HOME)
    const cafe = '203.0.113.60'
    for (let i = 0; i < 3; i++) await statusOf(username, `typo ${i}`, cafe)
    now += 1000
    expect(await statusOf(username, PASSWORD, cafe)).toBe(200)
    for (let i = 0; i < 3; i++) expect(await statusOf(username, `typo ${i}`, cafe)).toBe(401)
  })

  it('parallel guesses cannot slip past the delay', async () => {
    const username = await register(HOME)
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => statusOf(username, `parallel ${i}`, '203.0.113.70')),
    )
    expect(statuses.filter((s) => s === 401)).toHaveLength(3)
    expect(statuses.filter((s) => s === 429)).toHaveLength(7)
  })

  it('wrong current passwords to POST /password slow that session down', async () => {
    const username = await register(HOME)
    const { token } = (await login(username, PASSWORD, HOME)).body as AuthResponse
    const change = (currentPassword: string) =>
      relay.app.inject({
        method: 'POST',
        url: '/password',
        remoteAddress: HOME,
        headers: { authorization: `Bearer ${token}` },
        payload: { currentPassword, newPassword: 'a brand new password' },
      })
    for (let i = 0; i < 3; i++) expect((await change(`guess ${i}`)).statusCode).toBe(401)
    const slowed = await change(PASSWORD)
    expect(slowed.statusCode).toBe(429)
    expect(slowed.headers['retry-after']).toBe('1')
    now += 1000
    expect((await change(PASSWORD)).statusCode).toBe(204)
  })
})
