import { randomUUID } from 'node:crypto'
import {
  type ClientEventName,
  type ClientEventPayload,
  type FeedEvent,
  type Message,
  type MessageResponse,
  type RouteSpec,
  routes,
} from '@parley/shared'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import {
  type AckResult,
  befriend,
  type ClientSocket,
  connect,
  emit,
  type HttpResult,
  http,
  nextEvent,
  record,
  registerUser,
  sendMessage,
  sleep,
  type TestUser,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import { downloadFile, pdfBytes, uploaded } from './helpers/files'
import { relayTests, type TestRelay } from './helpers/relay'

/**
 * The authorization matrix. Alice and Bob are accepted contacts with a conversation; Mallory is a
 * stranger; Nora has asked Alice to be a contact (pending); Bea blocked Alice after they talked;
 * Alice blocked Bert after they talked. Everyone but Alice and Bob must be refused everything that
 * touches the Alice–Bob conversation, must never see anyone else's email or any secret, and must
 * never hear presence, typing or feed events of people who are not their accepted contacts. Whoever
 * was blocked may go on writing (as if nothing happened), and the blocker hears none of it.
 */

/**
 * What no response may ever contain, whoever asks: a credential field (as a key: an error may name
 * a field the request sent), a password hash, or the password every test user has.
 */
const SECRET_PATTERN =
  /"(password|password_hash|passwordHash|token_hash|tokenHash)":|\$argon2|correct horse battery/

const SILENCE_MS = 300

const withRelay = relayTests()

describe.each(dialects)('authorization matrix (%s)', (dialect) => {
  const it = withRelay[dialect]
  let relay: TestRelay
  let alice: TestUser
  let bob: TestUser
  let mallory: TestUser
  let nora: TestUser
  let bea: TestUser
  let bert: TestUser
  let everyone: TestUser[]
  /** Alice → Bob and Bob → Alice. */
  let m1: Message
  let m2: Message
  /** Alice → Bea, before Bea blocked Alice. */
  let mBea: Message
  /** Bert → Alice, before Alice blocked Bert. */
  let mBert: Message
  /** The ids of every message between Alice and Bob, which nobody else may see. */
  const privateIds = new Set<number>()

  /** An HTTP call as `viewer` that also checks the answer leaks no secret and nobody else's email. */
  async function call<T = unknown>(
    viewer: TestUser | null,
    method: string,
    url: string,
    body?: unknown,
  ): Promise<HttpResult<T>> {
    const result = await http<T>(relay.url, method, url, {
      ...(viewer && { token: viewer.token }),
      ...(body !== undefined && { body }),
    })
    expectNoLeak(viewer, `${method} ${url}`, result.body)
    return result
  }

  function expectNoLeak(viewer: TestUser | null, where: string, payload: unknown) {
    const text = JSON.stringify(payload) ?? ''
    expect(text, `${where} leaks a secret`).not.toMatch(SECRET_PATTERN)
    for (const other of everyone) {
      if (other === viewer) continue
      expect(text, `${where} shows ${other.user.username}'s email`).not.toContain(other.user.email)
      expect(text, `${where} shows ${other.user.username}'s token`).not.toContain(other.token)
    }
  }

  const refusal = (status: number, code: string) => ({
    status,
    body: { error: { code, message: expect.any(String) } },
  })
  const failure = (code: string) => ({ ok: false, error: { code, message: expect.any(String) } })

  async function messageRow(id: number) {
    return relay.app.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  }
  async function userRow(id: number) {
    return relay.app.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  }
  async function countRows(
    table: 'messages' | 'feed_events' | 'reactions' | 'receipts' | 'message_versions',
  ) {
    const row = await relay.app.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  it.beforeAll(async ({ relay: started }) => {
    relay = started
    ;[alice, bob, mallory, nora, bea, bert] = (await Promise.all(
      ['Alice', 'Bob', 'Mallory', 'Nora', 'Bea', 'Bert'].map((firstName) =>
        registerUser(relay.url, { firstName }),
      ),
    )) as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser]
    everyone = [alice, bob, mallory, nora, bea, bert]

    await befriend(alice, bob)
    m1 = (await sendMessage(alice, bob, 'for Bob only')).message
    m2 = (await sendMessage(bob, alice, 'for Alice only')).message
    privateIds.add(m1.id).add(m2.id)

    const asked = await call(nora, 'POST', '/contacts', { username: alice.user.username })
    expect(asked.status).toBe(201)

    await befriend(bea, alice)
    mBea = (await sendMessage(alice, bea, 'before Bea blocked me')).message
    expect((await call(bea, 'PATCH', `/contacts/${alice.user.id}`, { status: 'blocked' })).status).toBe(200)

    await befriend(alice, bert)
    mBert = (await sendMessage(bert, alice, 'before Alice blocked me')).message
    expect((await call(alice, 'PATCH', `/contacts/${bert.user.id}`, { status: 'blocked' })).status).toBe(200)
  })

  /** Everyone who is not an accepted contact of Alice. */
  const outsiders = () =>
    [
      ['Mallory (stranger)', mallory],
      ['Nora (pending request to Alice)', nora],
      ['Bea (blocked Alice)', bea],
      ['Bert (blocked by Alice)', bert],
    ] as const

  describe('tokens', () => {
    const authRoutes = Object.entries(routes).filter(([, r]) => r.auth) as [string, RouteSpec][]
    const openRoutes = Object.entries(routes).filter(([, r]) => !r.auth) as [string, RouteSpec][]

    it('the table has routes on both sides', () => {
      expect(authRoutes.length).toBeGreaterThan(10)
      expect(openRoutes.map(([name]) => name)).toEqual(
        expect.arrayContaining(['register', 'login', 'health']),
      )
    })

    it.each(authRoutes)(
      '%s refuses a missing, malformed, unknown or revoked token with 401 before reading the input',
      async (_name, route) => {
        const signedIn = await http<{ token: string }>(relay.url, 'POST', '/login', {
          body: { username: alice.user.username, password: alice.password },
        })
        expect((await http(relay.url, 'DELETE', '/logout', { token: signedIn.body.token })).status).toBe(204)
        const url = route.url.replace(':id', String(m1.id))
        const before = { m1: await messageRow(m1.id), feed: await countRows('feed_events') }
        const variants: [string, Record<string, string>][] = [
          ['no Authorization header', {}],
          ['an unknown token', { authorization: `Bearer ${'x'.repeat(43)}` }],
          ['a revoked token', { authorization: `Bearer ${signedIn.body.token}` }],
          ["Alice's token without Bearer", { authorization: alice.token }],
          ["Alice's token as Basic", { authorization: `Basic ${alice.token}` }],
          ["Alice's token in lower-case bearer", { authorization: `bearer ${alice.token}` }],
        ]
        for (const [label, headers] of variants) {
          // A body that would fail validation: the 401 must come first and reveal nothing.
          const response = await fetch(`${relay.url}${url}?token=${alice.token}`, {
            method: route.method,
            headers: { ...headers, ...(route.method !== 'GET' && { 'content-type': 'application/json' }) },
            ...(route.method !== 'GET' && { body: '{"not": "valid for any route"' }),
          })
          const body = await response.json()
          expect({ label, status: response.status, body }).toEqual({
            label,
            status: 401,
            body: { error: { code: 'unauthorized', message: expect.any(String) } },
          })
        }
        expect(await messageRow(m1.id)).toEqual(before.m1)
        expect(await countRows('feed_events')).toBe(before.feed)
        expect((await call(alice, 'GET', '/session')).status).toBe(200)
      },
    )

    it.each(openRoutes)('%s does not ask for a token', async (_name, route) => {
      const result = await http(relay.url, route.method, route.url, {
        ...(route.method !== 'GET' && { body: {} }),
      })
      expect(result.status).not.toBe(401)
    })
  })

  describe('reading', () => {
    it("GET /messages?with= returns only the caller's own conversation", async () => {
      const own = await call<{ messages: Message[] }>(bob, 'GET', `/messages?with=${alice.user.id}`)
      expect(own.body.messages.map((m) => m.id).sort()).toEqual([m1.id, m2.id].sort())
      for (const [who, viewer] of outsiders()) {
        for (const query of [
          `with=${bob.user.id}`,
          `with=${alice.user.id}`,
          `with=${bob.user.id}&before=${m2.id + 1}`,
          `with=${alice.user.id}&limit=200`,
        ]) {
          const page = await call<{ messages: Message[] }>(viewer, 'GET', `/messages?${query}`)
          expect(page.status, `${who} ${query}`).toBe(200)
          for (const message of page.body.messages) {
            expect([message.senderId, message.recipientId], `${who} ${query}`).toContain(viewer.user.id)
            expect(privateIds.has(message.id), `${who} ${query} sees ${message.id}`).toBe(false)
          }
        }
      }
      const mallorysView = await call<{ messages: Message[] }>(
        mallory,
        'GET',
        `/messages?with=${bob.user.id}`,
      )
      expect(mallorysView.body).toEqual({ messages: [], hasMore: false })
    })

    it("GET /messages/:id/history of someone else's message is 404 message_not_found", async () => {
      expect((await call(bob, 'GET', `/messages/${m1.id}/history`)).status).toBe(200)
      for (const [who, viewer] of outsiders()) {
        for (const id of [m1.id, m2.id]) {
          const result = await call(viewer, 'GET', `/messages/${id}/history`)
          expect({ who, ...result }).toMatchObject({ who, ...refusal(404, 'message_not_found') })
        }
      }
    })

    it('GET /users/:id of someone else never carries their email; your own does; strangers get 404', async () => {
      const own = await call<{ user: Record<string, unknown> }>(alice, 'GET', `/users/${alice.user.id}`)
      expect(own.body.user.email).toBe(alice.user.email)
      const stranger = await call(mallory, 'GET', `/users/${alice.user.id}`)
      expect(stranger).toMatchObject(refusal(404, 'user_not_found'))
      // A contact, a pending request, a block either way: each is a relationship that shows the profile.
      for (const viewer of [bob, nora, bea, bert]) {
        const result = await call<{ user: Record<string, unknown> }>(viewer, 'GET', `/users/${alice.user.id}`)
        expect(result.status).toBe(200)
        expect(Object.keys(result.body.user).sort()).toEqual([
          'avatarImageId',
          'createdAt',
          'firstName',
          'id',
          'lastName',
          'username',
        ])
      }
    })

    it('GET /users?q= never carries an email', async () => {
      const prefix = alice.user.username.slice(0, alice.user.username.indexOf('x') + 1)
      for (const viewer of everyone) {
        const result = await call<{ users: Record<string, unknown>[] }>(
          viewer,
          'GET',
          `/users?q=${encodeURIComponent(prefix)}&limit=50`,
        )
        expect(result.status).toBe(200)
        expect(result.body.users.map((u) => u.id)).toEqual(
          expect.arrayContaining([alice.user.id, bob.user.id]),
        )
        for (const user of result.body.users) expect(user).not.toHaveProperty('email')
      }
    })

    it("GET /sync of outsiders holds none of Alice and Bob's messages or receipts", async () => {
      const bobs = await call<{ events: FeedEvent[] }>(bob, 'GET', '/sync?after=0&limit=1000')
      expect(bobs.body.events.some((e) => e.type === 'message' && e.data.id === m1.id)).toBe(true)
      for (const [who, viewer] of outsiders()) {
        const feed = await call<{ events: FeedEvent[] }>(viewer, 'GET', '/sync?after=0&limit=1000')
        expect(feed.status).toBe(200)
        for (const event of feed.body.events) {
          if (
            event.type === 'message' ||
            event.type === 'message_updated' ||
            event.type === 'message_deleted' ||
            event.type === 'reaction'
          ) {
            expect(privateIds.has(event.data.id), `${who} got ${event.type} ${event.data.id}`).toBe(false)
            expect([event.data.senderId, event.data.recipientId], who).toContain(viewer.user.id)
          }
          if (event.type === 'delivered' || event.type === 'read') {
            expect([event.data.userId, 'peerId' in event.data && event.data.peerId], who).toContain(
              viewer.user.id,
            )
          }
        }
      }
    })
  })

  describe('writing to messages', () => {
    it('editing or deleting their message: 404 for outsiders, 403 not_message_sender for the recipient', async () => {
      const before = {
        m1: await messageRow(m1.id),
        m2: await messageRow(m2.id),
        versions: await countRows('message_versions'),
      }
      for (const [who, viewer] of outsiders()) {
        for (const id of [m1.id, m2.id]) {
          const edit = await call(viewer, 'PATCH', `/messages/${id}`, { text: 'hijacked' })
          expect({ who, ...edit }).toMatchObject({ who, ...refusal(404, 'message_not_found') })
          const del = await call(viewer, 'DELETE', `/messages/${id}`)
          expect({ who, ...del }).toMatchObject({ who, ...refusal(404, 'message_not_found') })
        }
      }
      expect(
        await call(bob, 'PATCH', `/messages/${m1.id}`, { text: 'put words in her mouth' }),
      ).toMatchObject(refusal(403, 'not_message_sender'))
      expect(await call(bob, 'DELETE', `/messages/${m1.id}`)).toMatchObject(
        refusal(403, 'not_message_sender'),
      )
      expect(await call(alice, 'PATCH', `/messages/${m2.id}`, { text: 'rewritten' })).toMatchObject(
        refusal(403, 'not_message_sender'),
      )
      expect(await messageRow(m1.id)).toEqual(before.m1)
      expect(await messageRow(m2.id)).toEqual(before.m2)
      expect(await countRows('message_versions')).toBe(before.versions)
    })

    it('editing your own message to someone who blocked you is 403 contact_required', async () => {
      expect(await call(alice, 'PATCH', `/messages/${mBea.id}`, { text: 'still here' })).toMatchObject(
        refusal(403, 'contact_required'),
      )
      expect((await messageRow(mBea.id)).text).toBe(mBea.text)
    })

    it('sending to a stranger, a pending contact, someone you blocked or yourself is refused', async () => {
      const before = { messages: await countRows('messages'), feed: await countRows('feed_events') }
      const refused: [string, TestUser, TestUser, number, string][] = [
        ['stranger → Alice', mallory, alice, 403, 'contact_required'],
        ['stranger → Bob', mallory, bob, 403, 'contact_required'],
        ['pending requester → Alice', nora, alice, 403, 'contact_required'],
        ['Alice → pending requester', alice, nora, 403, 'contact_required'],
        ['blocker → Alice', bea, alice, 403, 'contact_required'],
        ['Alice → the user she blocked', alice, bert, 403, 'contact_required'],
        ['Alice → herself', alice, alice, 400, 'cannot_contact_self'],
      ]
      for (const [label, from, to, status, code] of refused) {
        const body = { clientId: randomUUID(), recipientId: to.user.id, text: `attempt: ${label}` }
        const result = await call(from, 'POST', '/messages', body)
        expect({ label, ...result }).toMatchObject({ label, ...refusal(status, code) })
      }
      expect(await countRows('messages')).toBe(before.messages)
      expect(await countRows('feed_events')).toBe(before.feed)
    })

    it('sending to someone who blocked you is accepted as usual, and nothing of it or its changes reaches them', async () => {
      const beasFeed = async () =>
        (await call<{ events: FeedEvent[] }>(bea, 'GET', '/sync?after=0&limit=1000')).body.events
      const before = await beasFeed()
      const body = { clientId: randomUUID(), recipientId: bea.user.id, text: 'are you there?' }
      const sent = await call<MessageResponse>(alice, 'POST', '/messages', body)
      expect(sent.status).toBe(201)
      expect(sent.body.message).toMatchObject({ senderId: alice.user.id, recipientId: bea.user.id })
      expect(sent.body.seq).toEqual(expect.any(Number))
      // A resend after a lost answer finds the same message, as for any send.
      expect(await call(alice, 'POST', '/messages', body)).toMatchObject({ status: 201, body: sent.body })
      const id = sent.body.message.id
      expect(await call(alice, 'PATCH', `/messages/${id}`, { text: 'are you there??' })).toMatchObject({
        status: 200,
      })
      expect((await call(alice, 'GET', `/messages/${id}/history`)).status).toBe(200)

      // Alice has it, like any message she sent.
      const alicesPage = await call<{ messages: Message[] }>(alice, 'GET', `/messages?with=${bea.user.id}`)
      expect(alicesPage.body.messages[0]).toMatchObject({ id, text: 'are you there??' })
      const alicesFeed = await call<{ events: FeedEvent[] }>(alice, 'GET', '/sync?after=0&limit=1000')
      expect(
        alicesFeed.body.events.flatMap((e) =>
          (e.type === 'message' || e.type === 'message_updated') && e.data.id === id ? [e.type] : [],
        ),
      ).toEqual(['message', 'message_updated'])

      // Bea finds no trace of it: not in her feed, her history, nor by its id.
      expect(await beasFeed()).toEqual(before)
      const beasPage = await call<{ messages: Message[] }>(bea, 'GET', `/messages?with=${alice.user.id}`)
      expect(beasPage.body.messages.map((m) => m.id)).toEqual([mBea.id])
      expect(await call(bea, 'GET', `/messages/${id}/history`)).toMatchObject(
        refusal(404, 'message_not_found'),
      )
      expect(await call(bea, 'DELETE', `/messages/${id}`)).toMatchObject(refusal(404, 'message_not_found'))

      // Nor after she lifts the block: what was sent meanwhile stays Alice's alone.
      expect((await call(bea, 'PATCH', `/contacts/${alice.user.id}`, { status: 'accepted' })).status).toBe(
        200,
      )
      try {
        expect(await call(bea, 'GET', `/messages/${id}/history`)).toMatchObject(
          refusal(404, 'message_not_found'),
        )
        expect(await call(bea, 'PATCH', `/messages/${id}`, { text: 'x' })).toMatchObject(
          refusal(404, 'message_not_found'),
        )
        const socket = await connect(relay.url, bea.token)
        try {
          expect(await emit(socket, 'read', { with: alice.user.id, upTo: id })).toEqual(
            failure('message_not_found'),
          )
          expect(await emit(socket, 'reaction', { messageId: id, emoji: '👀' })).toEqual(
            failure('message_not_found'),
          )
        } finally {
          socket.close()
        }
        const page = await call<{ messages: Message[] }>(bea, 'GET', `/messages?with=${alice.user.id}`)
        expect(page.body.messages.map((m) => m.id)).toEqual([mBea.id])
        expect(await call(alice, 'DELETE', `/messages/${id}`)).toMatchObject({ status: 200 })
        // Her lifting the block is all her feed has had since.
        expect((await beasFeed()).slice(0, before.length)).toEqual(before)
        expect((await beasFeed()).slice(before.length).map((e) => e.type)).toEqual(['contact_updated'])
      } finally {
        expect((await call(bea, 'PATCH', `/contacts/${alice.user.id}`, { status: 'blocked' })).status).toBe(
          200,
        )
      }
    })

    it("reusing someone else's clientId neither returns their message nor conflicts", async () => {
      for (const recipient of [bob, alice]) {
        const result = await call(mallory, 'POST', '/messages', {
          clientId: m1.clientId,
          recipientId: recipient.user.id,
          text: m1.text,
        })
        expect(result).toMatchObject(refusal(403, 'contact_required'))
      }
      const bobs = await call<MessageResponse>(bob, 'POST', '/messages', {
        clientId: m1.clientId,
        recipientId: alice.user.id,
        text: 'same clientId, different sender',
      })
      expect(bobs.status).toBe(201)
      expect(bobs.body.message).toMatchObject({
        senderId: bob.user.id,
        text: 'same clientId, different sender',
      })
      expect(bobs.body.message.id).not.toBe(m1.id)
      privateIds.add(bobs.body.message.id)
    })
  })

  describe('files, replies, forwards and hiding', () => {
    it('a file Alice sent Bob opens for the two of them only; her unsent upload for her only', async () => {
      const file = await uploaded(alice, pdfBytes(800), 'for-bob.pdf')
      const unsent = await uploaded(alice, pdfBytes(900), 'draft.pdf')
      expect(
        (
          await call(alice, 'POST', '/messages', {
            clientId: randomUUID(),
            recipientId: bob.user.id,
            fileId: file.id,
          })
        ).status,
      ).toBe(201)
      expect((await downloadFile(relay.url, bob.token, file.id)).status).toBe(200)
      expect((await downloadFile(relay.url, bob.token, unsent.id)).status).toBe(404)
      for (const [who, viewer] of outsiders()) {
        for (const id of [file.id, unsent.id]) {
          const got = await downloadFile(relay.url, viewer.token, id)
          expect({ who, status: got.status, code: JSON.parse(got.bytes.toString()).error.code }).toEqual({
            who,
            status: 404,
            code: 'file_not_found',
          })
        }
      }
    })

    it('a file sent to someone who blocked the sender is withheld: it never opens for them', async () => {
      // People of their own, so the matrix's relationships stay as they are.
      const [sender, blocker, friend] = await Promise.all([1, 2, 3].map(() => registerUser(relay.url)))
      await befriend(sender!, blocker!)
      await befriend(blocker!, friend!)
      await call(blocker!, 'PATCH', `/contacts/${sender!.user.id}`, { status: 'blocked' })
      const file = await uploaded(sender!, pdfBytes(700), 'to-blocker.pdf')
      const sent = await http<MessageResponse>(relay.url, 'POST', '/messages', {
        token: sender!.token,
        body: { clientId: randomUUID(), recipientId: blocker!.user.id, fileId: file.id },
      })
      expect(sent.status).toBe(201)
      expect((await downloadFile(relay.url, blocker!.token, file.id)).status).toBe(404)
      // Nor can they reach it by forwarding what they were never given.
      const forward = await http(relay.url, 'POST', '/messages', {
        token: blocker!.token,
        body: { clientId: randomUUID(), recipientId: friend!.user.id, forwardOf: sent.body.message.id },
      })
      expect(forward).toMatchObject(refusal(404, 'message_not_found'))
    })

    it('a reply must name a message of its own conversation: reply_not_found for any other', async () => {
      const before = await countRows('messages')
      const tries: [TestUser, TestUser, number][] = [
        [bob, alice, mBea.id], // Alice–Bea: Bob cannot see it
        [alice, bob, mBea.id], // Alice can, but it is another conversation
        [alice, bob, mBert.id],
      ]
      for (const [from, to, replyToId] of tries) {
        const result = await call(from, 'POST', '/messages', {
          clientId: randomUUID(),
          recipientId: to.user.id,
          text: 're',
          replyToId,
        })
        expect(result).toMatchObject(refusal(404, 'reply_not_found'))
      }
      expect(await countRows('messages')).toBe(before)
    })

    it("forwarding a message of someone else's conversation is message_not_found, and copies nothing", async () => {
      const before = await countRows('messages')
      for (const forwardOf of [mBea.id, mBert.id]) {
        const result = await call(bob, 'POST', '/messages', {
          clientId: randomUUID(),
          recipientId: alice.user.id,
          forwardOf,
        })
        expect(result).toMatchObject(refusal(404, 'message_not_found'))
      }
      expect(await countRows('messages')).toBe(before)
    })

    it('outsiders cannot hide Alice and Bob’s messages: 404, and nothing is written', async () => {
      const feed = await countRows('feed_events')
      for (const [who, viewer] of outsiders()) {
        for (const id of [m1.id, m2.id]) {
          const result = await call(viewer, 'POST', `/messages/${id}/hide`)
          expect({ who, ...result }).toMatchObject({ who, ...refusal(404, 'message_not_found') })
        }
      }
      expect(await countRows('feed_events')).toBe(feed)
      expect(await relay.app.db.selectFrom('hidden_messages').selectAll().execute()).toEqual([])
    })
  })

  describe('profiles and contacts', () => {
    it('PATCH /users/:id of someone else is 403 forbidden and changes nothing', async () => {
      const before = await userRow(alice.user.id)
      for (const viewer of [bob, mallory, nora, bea, bert]) {
        for (const body of [{ firstName: 'Pwned' }, { email: 'attacker@example.com' }]) {
          const result = await call(viewer, 'PATCH', `/users/${alice.user.id}`, body)
          expect(result).toMatchObject(refusal(403, 'forbidden'))
        }
      }
      expect(await userRow(alice.user.id)).toEqual(before)
    })

    it('PATCH /users/:id with any field but firstName, lastName and email is 400 and changes nothing', async () => {
      const before = await userRow(alice.user.id)
      const bodies: Record<string, unknown>[] = [
        {},
        { username: 'alice_the_admin' },
        { password: 'a brand new password' },
        { password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g' },
        { passwordHash: 'x' },
        { id: bob.user.id },
        { createdAt: 0 },
        { created_at: 0 },
        { updatedAt: 0 },
        { lastSeenAt: 0 },
        { feed_seq: 0 },
        { isAdmin: true },
        { role: 'admin' },
        { token: 'x' },
        { email: 'not an email' },
        { firstName: 'Fine', username: 'alice_the_admin' },
        { firstName: 'Fine', isAdmin: true },
        { lastName: 'Fine', password: 'a brand new password' },
      ]
      for (const body of bodies) {
        const result = await call(alice, 'PATCH', `/users/${alice.user.id}`, body)
        expect({ sent: body, status: result.status, body: result.body }).toMatchObject({
          sent: body,
          ...refusal(400, 'validation_failed'),
        })
      }
      expect(await userRow(alice.user.id)).toEqual(before)
      const allowed = await call<{ user: Record<string, unknown> }>(
        alice,
        'PATCH',
        `/users/${alice.user.id}`,
        {
          lastName: 'Allowed',
        },
      )
      expect(allowed.status).toBe(200)
      expect(allowed.body.user).toMatchObject({ lastName: 'Allowed', username: alice.user.username })
    })

    it("outsiders cannot accept, remove or re-request their way into Alice's contacts", async () => {
      expect(
        await call(mallory, 'PATCH', `/contacts/${alice.user.id}`, { status: 'accepted' }),
      ).toMatchObject(refusal(404, 'contact_not_found'))
      expect(await call(mallory, 'DELETE', `/contacts/${alice.user.id}`)).toMatchObject(
        refusal(404, 'contact_not_found'),
      )
      expect(await call(mallory, 'DELETE', `/contacts/${bob.user.id}`)).toMatchObject(
        refusal(404, 'contact_not_found'),
      )
      expect(await call(nora, 'PATCH', `/contacts/${alice.user.id}`, { status: 'accepted' })).toMatchObject(
        refusal(409, 'invalid_transition'),
      )
      expect(await call(nora, 'POST', '/contacts', { username: alice.user.username })).toMatchObject(
        refusal(409, 'already_contacts'),
      )
      const contacts = await call<{ contacts: { user: { id: number }; status: string }[] }>(
        alice,
        'GET',
        '/contacts',
      )
      const status = (id: number) => contacts.body.contacts.find((c) => c.user.id === id)?.status
      expect(status(bob.user.id)).toBe('accepted')
      expect(status(nora.user.id)).toBe('incoming')
      expect(status(mallory.user.id)).toBeUndefined()
      for (const [who, viewer] of outsiders()) {
        const theirs = await call<{ contacts: { user: { id: number } }[] }>(viewer, 'GET', '/contacts')
        expect(
          theirs.body.contacts.map((c) => c.user.id),
          who,
        ).not.toContain(bob.user.id)
      }
    })
  })

  describe('sessions and passwords', () => {
    type Sessions = { sessions: { id: number; current: boolean }[] }
    const sessionIds = async (viewer: TestUser) =>
      (await call<Sessions>(viewer, 'GET', '/sessions')).body.sessions.map((s) => s.id)

    it("GET /sessions lists only the caller's own sessions", async () => {
      const alices = await sessionIds(alice)
      expect(alices.length).toBeGreaterThan(0)
      for (const viewer of [bob, mallory, nora, bea, bert]) {
        const theirs = await sessionIds(viewer)
        expect(theirs.filter((id) => alices.includes(id))).toEqual([])
      }
    })

    it("ending Alice's session is 404 session_not_found for everyone else, and she stays signed in", async () => {
      const [aliceSession] = await sessionIds(alice)
      for (const viewer of [bob, mallory, nora, bea, bert]) {
        expect(await call(viewer, 'DELETE', `/sessions/${aliceSession}`)).toMatchObject(
          refusal(404, 'session_not_found'),
        )
      }
      expect((await call(alice, 'GET', '/session')).status).toBe(200)
      expect(await sessionIds(alice)).toContain(aliceSession)
    })

    it("signing out your other sessions or changing your password never touches anyone else's", async () => {
      const before = await sessionIds(alice)
      const bobsPassword = (await userRow(bob.user.id)).password_hash
      const changed = await call(mallory, 'POST', '/password', {
        currentPassword: mallory.password,
        newPassword: mallory.password,
      })
      expect(changed.status).toBe(204)
      expect((await call(mallory, 'DELETE', '/sessions')).status).toBe(204)
      const wrong = await call(mallory, 'POST', '/password', {
        currentPassword: 'not my password',
        newPassword: 'a brand new password',
      })
      expect(wrong).toMatchObject(refusal(401, 'invalid_credentials'))
      expect(await sessionIds(alice)).toEqual(before)
      expect((await call(alice, 'GET', '/session')).status).toBe(200)
      expect((await call(bob, 'GET', '/session')).status).toBe(200)
      expect((await userRow(bob.user.id)).password_hash).toBe(bobsPassword)
    })
  })

  describe('live events', () => {
    const sockets = new Map<TestUser, ClientSocket>()
    /** Every event each outsider's socket receives, whatever its name. */
    const heard = new Map<TestUser, [string, unknown][]>()

    const socketOf = (user: TestUser) => sockets.get(user)!
    const ack = <E extends ClientEventName>(user: TestUser, event: E, payload: ClientEventPayload<E>) =>
      emit(socketOf(user), event, payload).then((result: AckResult<E>) => {
        expectNoLeak(user, `socket ${event}`, result)
        return result
      })

    beforeAll(async () => {
      for (const user of [bob, mallory, nora, bea, bert]) {
        const socket = await connect(relay.url, user.token)
        sockets.set(user, socket)
        const seen: [string, unknown][] = []
        socket.onAny((event: string, payload: unknown) => seen.push([event, payload]))
        heard.set(user, seen)
      }
      // Bob hears Alice come online: the positive control for everything outsiders must not hear.
      const online = nextEvent(socketOf(bob), 'user_status_change', (e) => e.userId === alice.user.id)
      sockets.set(alice, await connect(relay.url, alice.token))
      expect(await online).toMatchObject({ userId: alice.user.id, status: 'online' })
    })
    afterAll(() => {
      for (const socket of sockets.values()) socket.close()
    })

    it('presence and typing reach the contact and never a stranger or non-contact', async () => {
      const statusSeen = new Map(outsiders().map(([, u]) => [u, record(socketOf(u), 'user_status_change')]))
      const typingSeen = new Map(outsiders().map(([, u]) => [u, record(socketOf(u), 'typing')]))
      const aliceTyping = record(socketOf(alice), 'typing')
      const aliceStatus = record(socketOf(alice), 'user_status_change')

      const away = nextEvent(socketOf(bob), 'user_status_change', (e) => e.userId === alice.user.id)
      expect(await ack(alice, 'user_status_change', { status: 'away' })).toEqual({ ok: true })
      expect(await away).toMatchObject({ userId: alice.user.id, status: 'away' })

      const typing = nextEvent(socketOf(bob), 'typing', (e) => e.from === alice.user.id)
      expect(await ack(alice, 'typing', { to: bob.user.id, typing: true })).toEqual({ ok: true })
      expect(await typing).toEqual({ from: alice.user.id, typing: true })

      for (const [who, outsider] of outsiders()) {
        // Typing to someone who blocked you looks like typing to anyone: it just never arrives.
        expect(await ack(alice, 'typing', { to: outsider.user.id, typing: true }), who).toEqual(
          outsider === bea ? { ok: true } : failure('contact_required'),
        )
        expect(await ack(outsider, 'typing', { to: alice.user.id, typing: true }), who).toEqual(
          outsider === bert ? { ok: true } : failure('contact_required'),
        )
        expect(await ack(outsider, 'typing', { to: bob.user.id, typing: true }), who).toEqual(
          failure('contact_required'),
        )
        expect(await ack(outsider, 'user_status_change', { status: 'away' }), who).toEqual({ ok: true })
      }
      await sleep(SILENCE_MS)
      for (const [who, outsider] of outsiders()) {
        expect(statusSeen.get(outsider), `${who} heard presence`).toEqual([])
        expect(typingSeen.get(outsider), `${who} heard typing`).toEqual([])
      }
      expect(aliceTyping).toEqual([])
      expect(aliceStatus.filter((e) => e.userId !== bob.user.id)).toEqual([])
    })

    it('presence in GET /contacts is shown only between accepted contacts', async () => {
      const presenceOf = async (viewer: TestUser, peer: TestUser) => {
        const list = await call<{ contacts: { user: { id: number }; presence: unknown }[] }>(
          viewer,
          'GET',
          '/contacts',
        )
        return list.body.contacts.find((c) => c.user.id === peer.user.id)?.presence
      }
      expect(await presenceOf(bob, alice)).toMatchObject({ status: expect.stringMatching(/online|away/) })
      expect(await presenceOf(nora, alice)).toBeNull()
      expect(await presenceOf(bea, alice)).toBeNull()
      expect(await presenceOf(bert, alice)).toBeNull()
      expect(await presenceOf(alice, nora)).toBeNull()
      expect(await presenceOf(alice, bea)).toBeNull()
      expect(await presenceOf(alice, bert)).toBeNull()
    })

    it("outsiders' sockets hear nothing of Alice and Bob's messages, reactions and receipts", async () => {
      const arrived = nextEvent(socketOf(bob), 'message', (e) => e.data.senderId === alice.user.id)
      const sent = await ack(alice, 'message', {
        clientId: randomUUID(),
        recipientId: bob.user.id,
        text: 'live and private',
      })
      expect(sent.ok).toBe(true)
      const live = await arrived
      privateIds.add(live.data.id)
      const reacted = nextEvent(socketOf(alice), 'reaction', (e) => e.data.id === live.data.id)
      expect(await ack(bob, 'reaction', { messageId: live.data.id, emoji: '👍' })).toMatchObject({ ok: true })
      await reacted
      const read = nextEvent(socketOf(alice), 'read', (e) => e.data.userId === bob.user.id)
      expect(await ack(bob, 'read', { with: alice.user.id, upTo: live.data.id })).toMatchObject({ ok: true })
      await read
      const deleted = nextEvent(socketOf(bob), 'message_deleted', (e) => e.data.id === live.data.id)
      expect(await ack(alice, 'message_deleted', { id: live.data.id })).toMatchObject({ ok: true })
      await deleted
      await sleep(SILENCE_MS)
      for (const [who, outsider] of outsiders()) {
        expect(heard.get(outsider), `${who} heard something`).toEqual([])
      }
    })

    it('socket events on their messages are refused: 404 when invisible, 403 when not a contact', async () => {
      const before = {
        m1: await messageRow(m1.id),
        reactions: await countRows('reactions'),
        receipts: await countRows('receipts'),
        feed: await countRows('feed_events'),
      }
      let withheld = 0
      for (const [who, outsider] of outsiders()) {
        const expectations: [string, Promise<unknown>, unknown][] = [
          [
            'reaction on m1',
            ack(outsider, 'reaction', { messageId: m1.id, emoji: '😈' }),
            failure('message_not_found'),
          ],
          [
            'message_deleted m1',
            ack(outsider, 'message_deleted', { id: m1.id }),
            failure('message_not_found'),
          ],
          [
            'delivered with Alice',
            ack(outsider, 'delivered', { with: alice.user.id, upTo: m1.id }),
            failure('contact_required'),
          ],
          [
            'read with Bob',
            ack(outsider, 'read', { with: bob.user.id, upTo: m1.id }),
            failure('contact_required'),
          ],
        ]
        for (const [label, result, expected] of expectations)
          expect(await result, `${who}: ${label}`).toEqual(expected)
        const message = await ack(outsider, 'message', {
          clientId: randomUUID(),
          recipientId: alice.user.id,
          text: 'let me in',
        })
        if (outsider === bert) {
          // Blocked by Alice: accepted as if delivered; the feed count below shows only his own feed got it.
          expect(message, `${who}: message to Alice`).toMatchObject({ ok: true, seq: expect.any(Number) })
          withheld += 1
        } else {
          expect(message, `${who}: message to Alice`).toEqual(failure('contact_required'))
        }
      }
      // Visible, but the relationship is gone: 403 contact_required.
      expect(await ack(bea, 'reaction', { messageId: mBea.id, emoji: '👍' })).toEqual(
        failure('contact_required'),
      )
      expect(await ack(alice, 'reaction', { messageId: mBea.id, emoji: '👍' })).toEqual(
        failure('contact_required'),
      )
      expect(await ack(alice, 'reaction', { messageId: mBert.id, emoji: '👍' })).toEqual(
        failure('contact_required'),
      )
      expect(await ack(bea, 'read', { with: alice.user.id, upTo: mBea.id })).toEqual(
        failure('contact_required'),
      )
      expect(await ack(alice, 'delivered', { with: bert.user.id, upTo: mBert.id })).toEqual(
        failure('contact_required'),
      )
      // A contact cannot mark a message of another conversation as read.
      expect(await ack(bob, 'read', { with: alice.user.id, upTo: mBea.id })).toEqual(
        failure('message_not_found'),
      )
      // The recipient is not the sender.
      expect(await ack(bob, 'message_deleted', { id: m1.id })).toEqual(failure('not_message_sender'))

      expect(await messageRow(m1.id)).toEqual(before.m1)
      expect(await countRows('reactions')).toBe(before.reactions)
      expect(await countRows('receipts')).toBe(before.receipts)
      // Only the sender's own feed holds what was withheld.
      expect(withheld).toBe(1)
      expect(await countRows('feed_events')).toBe(before.feed + withheld)
    })

    it('socket message_updated of their message: 404 for outsiders, 403 not_message_sender for Bob', async () => {
      const before = await messageRow(m1.id)
      for (const [who, outsider] of outsiders()) {
        expect(await ack(outsider, 'message_updated', { id: m1.id, text: 'hijacked' }), who).toEqual(
          failure('message_not_found'),
        )
      }
      expect(await ack(bob, 'message_updated', { id: m1.id, text: 'put words in her mouth' })).toEqual(
        failure('not_message_sender'),
      )
      expect(await ack(alice, 'message_updated', { id: mBea.id, text: 'still here' })).toEqual(
        failure('contact_required'),
      )
      expect(await messageRow(m1.id)).toEqual(before)
    })

    it("the socket sync of an outsider holds none of Alice and Bob's messages", async () => {
      for (const [who, outsider] of outsiders()) {
        const result = await ack(outsider, 'sync', { after: 0, limit: 1000 })
        expect(result.ok, who).toBe(true)
        if (!result.ok) continue
        const ids = result.events.flatMap((e) =>
          e.type === 'message' ||
          e.type === 'message_updated' ||
          e.type === 'message_deleted' ||
          e.type === 'reaction'
            ? [e.data.id]
            : [],
        )
        expect(
          ids.filter((id) => privateIds.has(id)),
          who,
        ).toEqual([])
      }
    })

    it('going offline is heard by the contact only', async () => {
      const statusSeen = new Map(outsiders().map(([, u]) => [u, record(socketOf(u), 'user_status_change')]))
      const offline = nextEvent(
        socketOf(bob),
        'user_status_change',
        (e) => e.userId === alice.user.id && e.status === 'offline',
      )
      socketOf(alice).close()
      sockets.delete(alice)
      expect(await offline).toMatchObject({ userId: alice.user.id, status: 'offline' })
      await sleep(SILENCE_MS)
      for (const [who, outsider] of outsiders()) expect(statusSeen.get(outsider), who).toEqual([])
    })

    it('blocking a stranger tells neither of them anything through presence', async () => {
      const [blocker, stranger] = await Promise.all([registerUser(relay.url), registerUser(relay.url)])
      everyone.push(blocker, stranger)
      const blockerSocket = await connect(relay.url, blocker.token)
      const strangerSocket = await connect(relay.url, stranger.token)
      try {
        const strangerHears = record(strangerSocket, 'user_status_change')
        const blockerHears = record(blockerSocket, 'user_status_change')
        const blocked = await call(blocker, 'PATCH', `/contacts/${stranger.user.id}`, { status: 'blocked' })
        expect(blocked.status).toBe(200)
        await sleep(SILENCE_MS)
        expect(strangerHears, 'the blocked stranger heard a presence event').toEqual([])
        expect(blockerHears, 'the blocker heard a presence event').toEqual([])
      } finally {
        blockerSocket.close()
        strangerSocket.close()
      }
    })
  })

  it("nothing the matrix did touched Alice and Bob's first messages", async () => {
    const [row1, row2] = [await messageRow(m1.id), await messageRow(m2.id)]
    expect(row1).toMatchObject({ text: m1.text, edited_at: null, deleted_at: null, sender_id: alice.user.id })
    expect(row2).toMatchObject({ text: m2.text, edited_at: null, deleted_at: null, sender_id: bob.user.id })
    const strangers = [mallory, nora, bea, bert].map((u) => u.user.id)
    const reactions = await relay.app.db
      .selectFrom('reactions')
      .selectAll()
      .where('user_id', 'in', strangers)
      .execute()
    expect(reactions).toEqual([])
    const receipts = await relay.app.db
      .selectFrom('receipts')
      .selectAll()
      .where('owner_id', 'in', strangers)
      .execute()
    expect(receipts).toEqual([])
  })
})
