import type { Contact, FeedEvent, MessageResponse } from '@parley/shared'
import { describe, expect } from 'vitest'
import { befriend, contactsOf, http, registerUser, type TestUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { relayTests, startRelay } from './helpers/relay'

const withRelay = relayTests()

describe.each(dialects)('contacts (%s)', (dialect) => {
  const it = withRelay[dialect]

  const statusOf = async (owner: TestUser, peer: TestUser) =>
    (await contactsOf(owner)).find((c) => c.user.id === peer.user.id)?.status
  const feed = async (user: TestUser) =>
    (await http<{ events: FeedEvent[] }>(user.base, 'GET', '/sync?after=0', { token: user.token })).body
      .events

  it('a request shows as outgoing and incoming, and acceptance makes both sides accepted', async ({
    relay,
  }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    const asked = await http<{ contact: Contact }>(relay.url, 'POST', '/contacts', {
      token: ann.token,
      body: { username: ben.user.username },
    })
    expect(asked.status).toBe(201)
    expect(asked.body.contact).toMatchObject({ status: 'outgoing', user: { id: ben.user.id } })
    expect(asked.body.contact.user).not.toHaveProperty('email')
    expect(await statusOf(ann, ben)).toBe('outgoing')
    expect(await statusOf(ben, ann)).toBe('incoming')

    const accepted = await http(relay.url, 'PATCH', `/contacts/${ann.user.id}`, {
      token: ben.token,
      body: { status: 'accepted' },
    })
    expect(accepted.status).toBe(200)
    expect(await statusOf(ann, ben)).toBe('accepted')
    expect(await statusOf(ben, ann)).toBe('accepted')
    expect((await feed(ann)).map((e) => e.type)).toEqual(['contact_added', 'contact_updated'])
    expect((await feed(ben)).map((e) => e.type)).toEqual(['contact_added', 'contact_updated'])
  })

  it('the requester cannot accept their own request, and a second request is a conflict', async ({
    relay,
  }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await http(relay.url, 'POST', '/contacts', { token: ann.token, body: { username: ben.user.username } })
    const self = await http(relay.url, 'PATCH', `/contacts/${ben.user.id}`, {
      token: ann.token,
      body: { status: 'accepted' },
    })
    expect(self.status).toBe(409)
    expect(self.body).toMatchObject({ error: { code: 'invalid_transition' } })
    const again = await http(relay.url, 'POST', '/contacts', {
      token: ann.token,
      body: { username: ben.user.username },
    })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ error: { code: 'already_contacts' } })
  })

  it('asking someone who already asked you accepts at once', async ({ relay }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await http(relay.url, 'POST', '/contacts', { token: ann.token, body: { username: ben.user.username } })
    const back = await http<{ contact: Contact }>(relay.url, 'POST', '/contacts', {
      token: ben.token,
      body: { username: ann.user.username.toUpperCase() },
    })
    expect(back.status).toBe(201)
    expect(back.body.contact.status).toBe('accepted')
    expect(await statusOf(ann, ben)).toBe('accepted')
  })

  it('unknown users and yourself cannot be added', async ({ relay }) => {
    const ann = await registerUser(relay.url)
    const unknown = await http(relay.url, 'POST', '/contacts', {
      token: ann.token,
      body: { username: 'no-such-user' },
    })
    expect(unknown.status).toBe(404)
    expect(unknown.body).toMatchObject({ error: { code: 'user_not_found' } })
    const self = await http(relay.url, 'POST', '/contacts', {
      token: ann.token,
      body: { username: ann.user.username },
    })
    expect(self.status).toBe(400)
    expect(self.body).toMatchObject({ error: { code: 'cannot_contact_self' } })
  })

  it('declining removes the request on both sides', async ({ relay }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await http(relay.url, 'POST', '/contacts', { token: ann.token, body: { username: ben.user.username } })
    expect((await http(relay.url, 'DELETE', `/contacts/${ann.user.id}`, { token: ben.token })).status).toBe(
      204,
    )
    expect(await statusOf(ann, ben)).toBeUndefined()
    expect(await statusOf(ben, ann)).toBeUndefined()
    expect((await feed(ann)).at(-1)).toMatchObject({ type: 'contact_removed', data: { userId: ben.user.id } })
    const missing = await http(relay.url, 'DELETE', `/contacts/${ann.user.id}`, { token: ben.token })
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ error: { code: 'contact_not_found' } })
  })

  it('a block keeps messages from the blocker without telling the sender, hides a new request from the blocker, and survives the other side removing them', async ({
    relay,
  }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await befriend(ann, ben)
    const blocked = await http<{ contact: Contact }>(relay.url, 'PATCH', `/contacts/${ben.user.id}`, {
      token: ann.token,
      body: { status: 'blocked' },
    })
    expect(blocked.body.contact.status).toBe('blocked')
    const annFeedBlocked = (await feed(ann)).length
    const send = await http<MessageResponse>(relay.url, 'POST', '/messages', {
      token: ben.token,
      body: { clientId: crypto.randomUUID(), recipientId: ann.user.id, text: 'hi?' },
    })
    expect(send.status).toBe(201)
    expect((await feed(ben)).at(-1)).toMatchObject({ type: 'message', data: { id: send.body.message.id } })
    expect((await feed(ann)).length).toBe(annFeedBlocked)

    // Ben removes Ann, then asks again: Ann's block stays and she never hears of it.
    expect((await http(relay.url, 'DELETE', `/contacts/${ann.user.id}`, { token: ben.token })).status).toBe(
      204,
    )
    expect(await statusOf(ann, ben)).toBe('blocked')
    const annFeedBefore = (await feed(ann)).length
    await http(relay.url, 'POST', '/contacts', { token: ben.token, body: { username: ann.user.username } })
    expect(await statusOf(ben, ann)).toBe('outgoing')
    expect(await statusOf(ann, ben)).toBe('blocked')
    expect((await feed(ann)).length).toBe(annFeedBefore)

    // Ann may not send a request while she blocks Ben; lifting the block with accept works as he asked.
    const ask = await http(relay.url, 'POST', '/contacts', {
      token: ann.token,
      body: { username: ben.user.username },
    })
    expect(ask.body).toMatchObject({ error: { code: 'contact_blocked' } })
    await http(relay.url, 'PATCH', `/contacts/${ben.user.id}`, {
      token: ann.token,
      body: { status: 'accepted' },
    })
    expect(await statusOf(ann, ben)).toBe('accepted')
    expect(await statusOf(ben, ann)).toBe('accepted')
  })

  it('lifting a block keeps since when you are contacts; becoming contacts again after a removal starts anew', async () => {
    let now = Date.UTC(2026, 0, 1)
    const clocked = await startRelay({ dialect, clock: () => now })
    try {
      const [ann, ben, cat] = [
        await registerUser(clocked.url),
        await registerUser(clocked.url),
        await registerUser(clocked.url),
      ]
      const entry = async (owner: TestUser, peer: TestUser) =>
        (await contactsOf(owner)).find((c) => c.user.id === peer.user.id)
      const patch = (owner: TestUser, peer: TestUser, status: 'accepted' | 'blocked') =>
        http<{ contact: Contact }>(clocked.url, 'PATCH', `/contacts/${peer.user.id}`, {
          token: owner.token,
          body: { status },
        })
      const asked = await http<{ contact: Contact }>(clocked.url, 'POST', '/contacts', {
        token: ann.token,
        body: { username: ben.user.username },
      })
      expect(asked.body.contact.acceptedAt).toBeNull()
      now += 60_000
      const acceptedAt = now
      await patch(ben, ann, 'accepted')
      expect(await entry(ann, ben)).toMatchObject({ status: 'accepted', acceptedAt })
      expect(await entry(ben, ann)).toMatchObject({ status: 'accepted', acceptedAt })

      now += 60_000
      expect((await patch(ben, ann, 'blocked')).body.contact).toMatchObject({ status: 'blocked', acceptedAt })
      now += 60_000
      const lifted = await patch(ben, ann, 'accepted')
      expect(lifted.body.contact).toMatchObject({ status: 'accepted', acceptedAt, updatedAt: now })
      expect((await feed(ben)).at(-1)).toMatchObject({ type: 'contact_updated', data: { acceptedAt } })
      expect(await entry(ann, ben)).toMatchObject({ acceptedAt })

      // Ben blocks Cat, Cat removes him meanwhile and asks again: that contact is new.
      await befriend(ben, cat)
      now += 60_000
      await patch(ben, cat, 'blocked')
      await http(clocked.url, 'DELETE', `/contacts/${ben.user.id}`, { token: cat.token })
      await http(clocked.url, 'POST', '/contacts', {
        token: cat.token,
        body: { username: ben.user.username },
      })
      now += 60_000
      await patch(ben, cat, 'accepted')
      expect(await entry(ben, cat)).toMatchObject({ status: 'accepted', acceptedAt: now })
      expect(await entry(cat, ben)).toMatchObject({ status: 'accepted', acceptedAt: now })
    } finally {
      await clocked.close()
    }
  })

  it('removing an accepted contact removes both sides', async ({ relay }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await befriend(ann, ben)
    expect((await http(relay.url, 'DELETE', `/contacts/${ben.user.id}`, { token: ann.token })).status).toBe(
      204,
    )
    expect(await contactsOf(ann)).toEqual([])
    expect(await contactsOf(ben)).toEqual([])
  })

  it('lists presence for accepted contacts only', async ({ relay }) => {
    const [ann, ben, cat] = [
      await registerUser(relay.url),
      await registerUser(relay.url),
      await registerUser(relay.url),
    ]
    await befriend(ann, ben)
    await http(relay.url, 'POST', '/contacts', { token: ann.token, body: { username: cat.user.username } })
    const list = await contactsOf(ann)
    expect(list.find((c) => c.user.id === ben.user.id)?.presence).toEqual({
      status: 'offline',
      lastSeen: null,
    })
    expect(list.find((c) => c.user.id === cat.user.id)?.presence).toBeNull()
  })
})
