import { bridgeMethodNames, bridgeMethods } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCore, type TestCore } from './helpers/core'

let core: TestCore
beforeAll(async () => {
  core = await startCore()
})
afterAll(async () => {
  await core.dispose()
})

describe('the bridge boundary', () => {
  it('refuses an unknown field on every method with invalid_params', async () => {
    for (const method of bridgeMethodNames) {
      const result = await core.service.invoke(method, { surprise: true })
      expect(result, method).toMatchObject({ ok: false, error: { code: 'invalid_params' } })
    }
  })

  it('refuses params that are not an object on every method', async () => {
    for (const method of bridgeMethodNames) {
      for (const params of [null, undefined, 'text', 42, [], [{}]]) {
        const result = await core.service.invoke(method, params)
        expect(result, `${method} ${JSON.stringify(params)}`).toMatchObject({
          ok: false,
          error: { code: 'invalid_params' },
        })
      }
    }
  })

  it.each([
    ['messages.send', { conversation: 'dm:2', text: '' }, 'payload.text'],
    ['messages.send', { conversation: 'dm:2', text: '   ' }, 'payload.text'],
    ['messages.send', { conversation: 'dm:2', text: 'x'.repeat(4001) }, 'payload.text'],
    ['messages.send', { conversation: 2, text: 'hi' }, 'payload.conversation'],
    ['messages.send', { conversation: 'dm:0', text: 'hi' }, 'payload.conversation'],
    ['messages.send', { text: 'hi' }, 'conversation'],
    ['messages.react', { localId: 1, emoji: 'not an emoji' }, 'payload.emoji'],
    ['messages.page', { conversation: 'dm:2', limit: 1000 }, 'payload.limit'],
    ['messages.edit', { localId: 1.5, text: 'hi' }, 'payload.localId'],
    ['auth.login', { relayUrl: 'ftp://relay', username: 'ada', password: 'x' }, 'payload.relayUrl'],
    ['auth.register', { relayUrl: 'http://127.0.0.1:1', username: 'a', password: 'short' }, 'payload'],
    ['search.query', { q: '' }, 'payload.q'],
    ['settings.set', {}, 'payload'],
    ['settings.set', { theme: 'sepia' }, 'payload.theme'],
    ['drafts.set', { conversation: 'dm:2', text: 'a\u0000b' }, 'payload.text'],
    ['profile.update', { username: 'new' }, 'unknown field'],
  ])('%s refuses %j', async (method, params, where) => {
    const result = await core.service.invoke(method, params)
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_params' } })
    if (!result.ok) expect(result.error.message).toContain(where)
  })

  it('refuses an unknown method, and a name that is not a string', async () => {
    expect(await core.service.invoke('messages.sendAll', {})).toMatchObject({
      ok: false,
      error: { code: 'unknown_method' },
    })
    expect(await core.service.invoke('__proto__', {})).toMatchObject({
      ok: false,
      error: { code: 'unknown_method' },
    })
    expect(await core.service.invoke({ method: 'auth.session' }, {})).toMatchObject({
      ok: false,
      error: { code: 'unknown_method' },
    })
  })

  it('answers not_signed_in to valid calls that need an account', async () => {
    expect(await core.service.invoke('messages.send', { conversation: 'dm:2', text: 'hi' })).toMatchObject({
      ok: false,
      error: { code: 'not_signed_in' },
    })
    expect(await core.service.invoke('unread.get', {})).toMatchObject({
      ok: false,
      error: { code: 'not_signed_in' },
    })
  })

  it('answers calls that need no account', async () => {
    expect(await core.ok('auth.session', {})).toBeNull()
    expect(await core.ok('connection.get', {})).toMatchObject({ state: 'offline', lastError: null })
    expect(await core.ok('settings.get', {})).toMatchObject({ theme: 'system' })
  })

  it('a relay that cannot be reached is offline, not a crash', async () => {
    const result = await core.service.invoke('auth.login', {
      relayUrl: 'http://127.0.0.1:9',
      username: 'ada',
      password: 'whatever',
    })
    expect(result).toMatchObject({ ok: false, error: { code: 'offline' } })
  })

  it('every method has a summary, and its params are an object schema', () => {
    for (const [name, spec] of Object.entries(bridgeMethods)) {
      expect(spec.summary.length, name).toBeGreaterThan(10)
      expect(spec.params.type, name).toBe('object')
    }
  })
})
