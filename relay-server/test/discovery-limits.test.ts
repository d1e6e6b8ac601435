import type { PublicUser } from '@parley/shared'
import { describe, expect } from 'vitest'
import { http, registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { relayTests } from './helpers/relay'

const withRelay = relayTests({ env: { SEARCHES_PER_MINUTE: '3', CONTACT_REQUESTS_PER_HOUR: '2' } })

describe.each(dialects)('user discovery is limited per user (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('searches: SEARCHES_PER_MINUTE per user, then rate_limited with retry-after', async ({ relay }) => {
    const [me, other] = [await registerUser(relay.url), await registerUser(relay.url)]
    const search = (token: string) =>
      http<{ users: PublicUser[]; error: { code: string } }>(relay.url, 'GET', '/users?q=user', { token })
    for (let i = 0; i < 3; i += 1) expect((await search(me.token)).status).toBe(200)
    const refused = await search(me.token)
    expect([refused.status, refused.body.error.code]).toEqual([429, 'rate_limited'])
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another user has a budget of their own.
    expect((await search(other.token)).status).toBe(200)
  })

  it('contact requests: CONTACT_REQUESTS_PER_HOUR per user', async ({ relay }) => {
    const me = await registerUser(relay.url)
    const people = [
      await registerUser(relay.url),
      await registerUser(relay.url),
      await registerUser(relay.url),
    ]
    const ask = (username: string) =>
      http<{ error: { code: string } }>(relay.url, 'POST', '/contacts', {
        token: me.token,
        body: { username },
      })
    expect((await ask(people[0]?.user.username ?? '')).status).toBe(201)
    expect((await ask(people[1]?.user.username ?? '')).status).toBe(201)
    const refused = await ask(people[2]?.user.username ?? '')
    expect([refused.status, refused.body.error.code]).toEqual([429, 'rate_limited'])
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000)
  })
})
