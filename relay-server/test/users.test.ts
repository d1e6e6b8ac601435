import type { FeedEvent, OwnUser, PublicUser } from '@parley/shared'
import { describe, expect } from 'vitest'
import { befriend, connect, http, nextEvent, registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()

describe.each(dialects)('profiles and user search (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('finds users by username prefix, case-insensitively, without emails', async ({ relay }) => {
    const tag = Math.random().toString(36).slice(2, 7)
    const names = [`${tag}_zed`, `${tag}.amy`, `${tag}-Bob`, `x${tag}`]
    for (const username of names) await registerUser(relay.url, { username })
    const me = await registerUser(relay.url)
    const found = await http<{ users: PublicUser[] }>(relay.url, 'GET', `/users?q=${tag.toUpperCase()}`, {
      token: me.token,
    })
    expect(found.status).toBe(200)
    expect(found.body.users.map((u) => u.username)).toEqual([`${tag}-Bob`, `${tag}.amy`, `${tag}_zed`])
    expect(JSON.stringify(found.body)).not.toContain('@example.com')
    const narrow = await http<{ users: PublicUser[] }>(relay.url, 'GET', `/users?q=${tag}_&limit=5`, {
      token: me.token,
    })
    expect(narrow.body.users.map((u) => u.username)).toEqual([`${tag}_zed`])
    const limited = await http<{ users: PublicUser[] }>(relay.url, 'GET', `/users?q=${tag}&limit=1`, {
      token: me.token,
    })
    expect(limited.body.users).toHaveLength(1)
    // LIKE wildcards are plain characters here.
    const wildcard = await http<{ users: PublicUser[] }>(relay.url, 'GET', '/users?q=%25', {
      token: me.token,
    })
    expect(wildcard.body.users).toEqual([])
  })

  it('shows your own profile with email, others without', async ({ relay }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await befriend(ann, ben)
    const own = await http<{ user: OwnUser }>(relay.url, 'GET', `/users/${ann.user.id}`, { token: ann.token })
    expect(own.body.user.email).toBe(ann.user.email)
    const other = await http<{ user: PublicUser }>(relay.url, 'GET', `/users/${ann.user.id}`, {
      token: ben.token,
    })
    expect(other.body.user).toEqual({
      id: ann.user.id,
      username: ann.user.username,
      firstName: ann.user.firstName,
      lastName: ann.user.lastName,
      avatarImageId: null,
      createdAt: ann.user.createdAt,
    })
    const missing = await http(relay.url, 'GET', '/users/999999999', { token: ben.token })
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ error: { code: 'user_not_found' } })
  })

  it('a query shorter than three characters matches a whole username only', async ({ relay }) => {
    const me = await registerUser(relay.url)
    const tag = Math.random().toString(36).slice(2, 6)
    await registerUser(relay.url, { username: `ab${tag}` })
    for (const q of ['a', 'ab', 'AB']) {
      const found = await http<{ users: PublicUser[] }>(relay.url, 'GET', `/users?q=${q}`, {
        token: me.token,
      })
      expect([q, found.status, found.body.users]).toEqual([q, 200, []])
    }
    const prefix = await http<{ users: PublicUser[] }>(relay.url, 'GET', `/users?q=ab${tag.slice(0, 1)}`, {
      token: me.token,
    })
    expect(prefix.body.users.map((u) => u.username)).toContain(`ab${tag}`)
    // A whole username of three or more is found as before, whatever its case.
    const exact = await http<{ users: PublicUser[] }>(relay.url, 'GET', `/users?q=AB${tag.toUpperCase()}`, {
      token: me.token,
    })
    expect(exact.body.users.map((u) => u.username)).toEqual([`ab${tag}`])
  })

  it("a stranger's profile is as unknown as a missing one, until there is a relationship", async ({
    relay,
  }) => {
    const [ann, ben, cat] = [
      await registerUser(relay.url),
      await registerUser(relay.url),
      await registerUser(relay.url),
    ]
    const view = (viewer: typeof ann, id: number) =>
      http<{ user: PublicUser; error: { code: string } }>(relay.url, 'GET', `/users/${id}`, {
        token: viewer.token,
      })
    const before = await view(ben, ann.user.id)
    expect([before.status, before.body.error.code]).toEqual([404, 'user_not_found'])
    // A pending request shows the profile to both sides, and to no one else.
    expect(
      (
        await http(relay.url, 'POST', '/contacts', {
          token: ann.token,
          body: { username: ben.user.username },
        })
      ).status,
    ).toBe(201)
    expect((await view(ben, ann.user.id)).body.user.username).toBe(ann.user.username)
    expect((await view(ann, ben.user.id)).body.user.username).toBe(ben.user.username)
    expect((await view(cat, ann.user.id)).status).toBe(404)
  })

  it('patching your profile changes only profile fields and tells your devices and contacts', async ({
    relay,
  }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await befriend(ann, ben)
    const benSocket = await connect(relay.url, ben.token)
    const annOther = await connect(relay.url, ann.token)
    try {
      const atBen = nextEvent(benSocket, 'user_updated')
      const atAnn = nextEvent(annOther, 'user_updated')
      const patched = await http<{ user: OwnUser }>(relay.url, 'PATCH', `/users/${ann.user.id}`, {
        token: ann.token,
        body: { firstName: '  Annie ', email: 'annie@example.org' },
      })
      expect(patched.status).toBe(200)
      expect(patched.body.user).toMatchObject({
        firstName: 'Annie',
        lastName: ann.user.lastName,
        email: 'annie@example.org',
      })
      expect((await atAnn).data).toEqual(patched.body.user)
      const seenByBen = (await atBen).data
      expect(seenByBen).toMatchObject({ id: ann.user.id, firstName: 'Annie' })
      expect(seenByBen).not.toHaveProperty('email')
    } finally {
      benSocket.close()
      annOther.close()
    }
    for (const body of [
      { username: 'hijack' },
      { password: 'new password' },
      {},
      { email: 'not an email' },
    ]) {
      const refused = await http(relay.url, 'PATCH', `/users/${ann.user.id}`, { token: ann.token, body })
      expect(refused.status, JSON.stringify(body)).toBe(400)
    }
    const feed = await http<{ events: FeedEvent[] }>(relay.url, 'GET', '/sync?after=0', { token: ann.token })
    expect(feed.body.events.filter((e) => e.type === 'user_updated')).toHaveLength(1)
  })

  it('sends security headers and no framework fingerprint', async ({ relay }) => {
    const result = await http(relay.url, 'GET', '/health')
    expect(result.headers.get('x-content-type-options')).toBe('nosniff')
    expect(result.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(result.headers.get('strict-transport-security')).toMatch(/max-age=/)
    expect(result.headers.get('content-security-policy')).toMatch(/default-src 'self'/)
    expect(result.headers.get('x-powered-by')).toBeNull()
  })
})
