import { isCleartextRemoteRelay } from '@parley/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { startCore, type TestCore } from './helpers/core'

const cores: TestCore[] = []
afterAll(async () => {
  for (const core of cores) await core.dispose()
})

describe('plain http relays on another computer (L7)', () => {
  it('tells loopback and https from a cleartext relay across the network', () => {
    for (const local of [
      'http://127.0.0.1:8080',
      'http://127.8.9.10',
      'http://localhost:8080/parley',
      'http://LOCALHOST.',
      'http://parley.localhost',
      'http://[::1]:8080',
      'https://chat.example.org',
      'https://192.0.2.1',
    ]) {
      expect(isCleartextRemoteRelay(local), local).toBe(false)
    }
    for (const remote of [
      'http://chat.example.org',
      'http://192.0.2.1:8080',
      'http://10.0.0.5',
      'http://[2001:db8::1]',
      'http://localhost.example.org',
      'http://127.0.0.1.example.org',
      'http://0.0.0.0:8080',
    ]) {
      expect(isCleartextRemoteRelay(remote), remote).toBe(true)
    }
  })

  it('the core refuses to sign in or register there without the confirmation, before sending anything', async () => {
    const sent: string[] = []
    const fetchSpy: typeof fetch = async (input) => {
      sent.push(String(input instanceof Request ? input.url : input))
      throw new TypeError('fetch failed')
    }
    const core = await startCore(undefined, { fetch: fetchSpy })
    cores.push(core)
    const login = await core.call('auth.login', {
      relayUrl: 'http://192.0.2.1:8080',
      username: 'ada',
      password: 'correct horse battery',
    })
    expect(login).toMatchObject({ ok: false, error: { code: 'insecure_relay' } })
    expect(!login.ok && login.error.message).toMatch(/unencrypted/)
    const register = await core.call('auth.register', {
      relayUrl: 'http://chat.example.org',
      username: 'ada',
      password: 'correct horse battery',
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
      insecureRelayConfirmed: false,
    })
    expect(register).toMatchObject({ ok: false, error: { code: 'insecure_relay' } })
    expect(sent).toEqual([])

    // Confirmed, the call goes out (and fails here only because nothing answers).
    const confirmed = await core.call('auth.login', {
      relayUrl: 'http://192.0.2.1:8080',
      username: 'ada',
      password: 'correct horse battery',
      insecureRelayConfirmed: true,
    })
    expect(confirmed).toMatchObject({ ok: false, error: { code: 'offline' } })
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatch(/^http:\/\/192\.0\.2\.1:8080\//)
  })
})
