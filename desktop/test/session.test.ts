import http from 'node:http'
import { dmKey } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accountFile } from '../src/core/accounts'
import {
  befriend,
  conversation,
  signUp,
  startContacts,
  startCore,
  type TestCore,
  waitFor,
  waitOnline,
} from './helpers/core'
import { startProxy } from './helpers/proxy'
import { http as relayHttp, startRelay, type TestRelay } from './helpers/relay'
import { rawStore } from './helpers/store'

let relay: TestRelay
const cores: TestCore[] = []
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const core of cores) await core.dispose()
  await relay.close()
})

/** A plain web server at a relay address: `answer` decides every response. */
async function webServer(
  answer: (request: http.IncomingMessage, response: http.ServerResponse) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(answer)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function twoFriends() {
  const { cores: friends, a, b } = await startContacts(relay.url)
  cores.push(friends.alice, friends.bob)
  return { alice: friends.alice, bob: friends.bob, a, b }
}

describe('sessions', () => {
  it('signing out stops syncing; signing in again reuses the cache and carries on', async () => {
    const { alice, bob, a, b } = await twoFriends()
    await bob.ok('messages.send', { conversation: dmKey(a.user.id), text: 'first' })
    await waitFor(async () => (await conversation(alice, b.user.id)).length === 1)
    expect(await alice.ok('auth.logout', {})).toBeNull()
    expect(await alice.ok('auth.session', {})).toBeNull()
    expect((await alice.ok('connection.get', {})).state).toBe('offline')
    expect(alice.events('session.changed').at(-1)).toMatchObject({ session: null, reason: 'signed_out' })

    await bob.ok('messages.send', { conversation: dmKey(a.user.id), text: 'second' })
    const restarted = await alice.restart()
    cores.push(restarted)
    expect(await restarted.ok('auth.session', {})).toBeNull()
    await restarted.ok('auth.login', {
      relayUrl: relay.url,
      username: a.user.username,
      password: 'correct horse battery',
    })
    await waitFor(async () => (await conversation(restarted, b.user.id)).length === 2)
    expect((await conversation(restarted, b.user.id)).map((m) => m.text)).toEqual(['first', 'second'])
  })

  it('a token revoked elsewhere ends the session here with `expired`', async () => {
    const alice = await startCore()
    cores.push(alice)
    const a = await signUp(alice, relay.url)
    await waitOnline(alice)
    const file = accountFile(alice.dataDir, relay.url, a.user.id)
    const reader = await rawStore(alice.dataDir, file)
    const token = reader.prepare('select token from account').pluck().get() as string
    reader.close()
    expect((await relayHttp(relay.url, 'DELETE', '/logout', { token })).status).toBe(204)
    await waitFor(() => alice.events('session.changed').some((e) => e.reason === 'expired'))
    expect(await alice.ok('auth.session', {})).toBeNull()
    expect((await alice.call('unread.get', {})).ok).toBe(false)
  })

  it('signing in twice is refused until signing out', async () => {
    const alice = await startCore()
    cores.push(alice)
    const a = await signUp(alice, relay.url)
    expect(
      await alice.call('auth.login', {
        relayUrl: relay.url,
        username: a.user.username,
        password: 'correct horse battery',
      }),
    ).toMatchObject({ ok: false, error: { code: 'already_signed_in' } })
  })

  it('wrong credentials come back as the relay’s error code', async () => {
    const core = await startCore()
    cores.push(core)
    expect(
      await core.call('auth.login', { relayUrl: relay.url, username: 'nobody-here', password: 'wrong' }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid_credentials' },
    })
  })
})

describe('the relay to sign in to', () => {
  it('the relay signed in to last is offered, after signing out and after a restart too', async () => {
    const alice = await startCore()
    cores.push(alice)
    expect((await alice.ok('app.info', {})).lastRelayUrl).toBeNull()
    await signUp(alice, `${relay.url}/`)
    expect((await alice.ok('app.info', {})).lastRelayUrl).toBe(relay.url)
    await alice.ok('auth.logout', {})
    expect((await alice.ok('app.info', {})).lastRelayUrl).toBe(relay.url)
    const restarted = await alice.restart()
    cores.push(restarted)
    expect(await restarted.ok('auth.session', {})).toBeNull()
    expect((await restarted.ok('app.info', {})).lastRelayUrl).toBe(relay.url)
  })

  it('a wrong password names the relay that refused it', async () => {
    const core = await startCore()
    cores.push(core)
    expect(
      await core.call('auth.login', { relayUrl: relay.url, username: 'nobody-here', password: 'wrong' }),
    ).toEqual({
      ok: false,
      error: {
        code: 'invalid_credentials',
        message: `Wrong username or password for the relay at ${relay.url}`,
      },
    })
  })

  it('a web server that is not a Parley relay is named as such, whatever it answers', async () => {
    const core = await startCore()
    cores.push(core)
    const refusing = await webServer((_, response) => {
      response.writeHead(405, { 'content-type': 'text/html' }).end('<h1>Method Not Allowed</h1>')
    })
    const welcoming = await webServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<h1>It works!</h1>')
    })
    const jsonApi = await webServer((_, response) => {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no such route"}')
    })
    try {
      const login = (relayUrl: string) =>
        core.call('auth.login', { relayUrl, username: 'alice', password: 'correct horse battery' })
      expect(await login(refusing.url)).toEqual({
        ok: false,
        error: { code: 'not_a_relay', message: `${refusing.url} is not a Parley relay (it answered 405)` },
      })
      expect(await login(welcoming.url)).toMatchObject({
        ok: false,
        error: { code: 'not_a_relay', message: `${welcoming.url} is not a Parley relay (it answered 200)` },
      })
      const registered = await core.call('auth.register', {
        relayUrl: jsonApi.url,
        username: 'alice',
        password: 'correct horse battery',
        firstName: 'Alice',
        lastName: 'Tester',
        email: 'alice@example.org',
      })
      expect(registered).toMatchObject({ ok: false, error: { code: 'not_a_relay' } })
    } finally {
      await refusing.close()
      await welcoming.close()
      await jsonApi.close()
    }
  })

  it('a relay behind a proxy that answers in its own words is still a relay', async () => {
    const core = await startCore()
    cores.push(core)
    // /health goes through to the relay; everything else gets the proxy's own page.
    const proxy = await webServer((request, response) => {
      if (request.url === '/health') {
        void fetch(`${relay.url}/health`).then(async (health) => {
          response.writeHead(health.status, { 'content-type': 'application/json' }).end(await health.text())
        })
        return
      }
      response.writeHead(413, { 'content-type': 'text/html' }).end('<h1>Request Entity Too Large</h1>')
    })
    try {
      expect(
        await core.call('auth.login', {
          relayUrl: proxy.url,
          username: 'alice',
          password: 'correct horse battery',
        }),
      ).toMatchObject({ ok: false, error: { code: 'invalid_response', message: 'The relay answered 413' } })
    } finally {
      await proxy.close()
    }
  })
})

describe('live signals and other methods', () => {
  it('typing shows on the other side and stops by itself', async () => {
    const { alice, bob, a, b } = await twoFriends()
    await alice.ok('typing.set', { conversation: dmKey(b.user.id), typing: true })
    await waitFor(() => bob.events('typing.changed').some((e) => e.userId === a.user.id && e.typing))
    await waitFor(() => bob.events('typing.changed').at(-1)?.typing === false, 3000)
  })

  it('presence of a contact shows while connected and turns offline when they leave', async () => {
    const { alice, bob, a } = await twoFriends()
    await waitFor(async () => (await bob.ok('contacts.list', {}))[0]?.presence?.status === 'online')
    await alice.stop()
    await waitFor(() =>
      bob.events('presence.changed').some((e) => e.userId === a.user.id && e.presence?.status === 'offline'),
    )
    const [contact] = await bob.ok('contacts.list', {})
    expect(contact?.presence?.lastSeen).toBeGreaterThan(0)
  })

  it('presence is online while any window says so, away when every window is hidden, and a closed window stops counting', async () => {
    const { alice, bob, a } = await twoFriends()
    const seenByBob = async () => (await bob.ok('contacts.list', {}))[0]?.presence?.status
    const say = (status: 'online' | 'away', tab: string) =>
      alice.service.invoke('presence.set', { status }, tab)
    await waitFor(async () => (await seenByBob()) === 'online')

    expect(await say('away', 'tab-1')).toEqual({ ok: true, value: null })
    await waitFor(async () => (await seenByBob()) === 'away')
    await say('online', 'tab-2')
    await waitFor(async () => (await seenByBob()) === 'online')
    // A second tab hidden while the first is shown: still online.
    await say('away', 'tab-1')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(await seenByBob()).toBe('online')
    // The shown tab is closed: only the hidden one is left.
    alice.service.windowClosed('tab-2')
    await waitFor(async () => (await seenByBob()) === 'away')
    // A reload: the page goes, a new one comes and says it is shown.
    alice.service.windowClosed('tab-1')
    await say('online', 'tab-3')
    await waitFor(async () => (await seenByBob()) === 'online')
    expect(bob.events('presence.changed').filter((e) => e.userId === a.user.id).length).toBeGreaterThan(0)
  })

  it('after a reconnect to the relay the core says again that its windows are away', async () => {
    const proxy = await startProxy(Number(new URL(relay.url).port))
    const alice = await startCore()
    const bob = await startCore()
    cores.push(alice, bob)
    try {
      const a = await signUp(alice, proxy.url)
      const b = await signUp(bob, relay.url)
      await befriend(alice, a, bob, b)
      await waitOnline(alice)
      await alice.ok('presence.set', { status: 'away' })
      const seenByBob = async () => (await bob.ok('contacts.list', {}))[0]?.presence?.status
      await waitFor(async () => (await seenByBob()) === 'away')

      proxy.goOffline()
      await waitFor(async () => (await seenByBob()) === 'offline')
      proxy.goOnline()
      // The relay takes a new socket as online; the core corrects it at once.
      await waitOnline(alice)
      await waitFor(async () => (await seenByBob()) === 'away')
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(await seenByBob()).toBe('away')
    } finally {
      await proxy.close()
    }
  })

  it('an edited message shows its history; reactions and deletes reach the other side', async () => {
    const { alice, bob, a, b } = await twoFriends()
    const sent = await alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'version one' })
    await waitFor(async () => (await conversation(alice, b.user.id))[0]?.id !== null)
    await alice.ok('messages.edit', { localId: sent.localId, text: 'version two' })
    const received = await waitFor(async () =>
      (await conversation(bob, a.user.id)).find((m) => m.text === 'version two'),
    )
    const history = await bob.ok('messages.history', { localId: received.localId })
    expect(history.versions.map((v) => v.text)).toEqual(['version one'])
    await bob.ok('messages.react', { localId: received.localId, emoji: '❤️' })
    await waitFor(async () => (await conversation(alice, b.user.id))[0]?.reactions[0]?.emoji === '❤️')
    await alice.ok('messages.delete', { localId: sent.localId })
    await waitFor(async () => (await conversation(bob, a.user.id))[0]?.deletedAt !== null)
    expect(await bob.call('messages.edit', { localId: received.localId, text: 'not mine' })).toMatchObject({
      ok: false,
      error: { code: 'not_message_sender' },
    })
  })

  it('a profile change and a draft are kept', async () => {
    const { alice, bob, a, b } = await twoFriends()
    const user = await alice.ok('profile.update', { lastName: 'King' })
    expect(user.lastName).toBe('King')
    await waitFor(async () => (await bob.ok('contacts.list', {}))[0]?.user.lastName === 'King')
    await alice.ok('drafts.set', { conversation: dmKey(b.user.id), text: 'half a thought' })
    expect(await alice.ok('drafts.get', { conversation: dmKey(b.user.id) })).toMatchObject({
      text: 'half a thought',
    })
    const [conversationView] = await alice.ok('conversations.list', {})
    expect(conversationView).toBeUndefined() // no messages yet: drafts alone do not make a conversation
    await alice.ok('messages.send', { conversation: dmKey(b.user.id), text: 'the thought' })
    expect(await alice.ok('drafts.get', { conversation: dmKey(b.user.id) })).toBeNull()
    expect((await alice.ok('users.search', { q: a.user.username.slice(0, 6) })).map((u) => u.id)).toContain(
      a.user.id,
    )
    expect(await alice.ok('settings.set', { theme: 'dark' })).toMatchObject({ theme: 'dark' })
  })
})
