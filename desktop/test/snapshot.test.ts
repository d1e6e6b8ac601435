import { randomUUID } from 'node:crypto'
import { dmKey, groupKey, type SyncSnapshot } from '@parley/shared'
import { afterEach, describe, expect, it } from 'vitest'
import type {} from '../../relay-server/src/plugins/services'
import { befriend, registerUser, type TestUser } from '../../relay-server/test/helpers/client'
import { createGroup, sendToGroup } from '../../relay-server/test/helpers/groups'
import { searchMessages } from '../src/core/db/search'
import { applySnapshot } from '../src/core/db/snapshot'
import type { Logger } from '../src/core/logger'
import { defaultTiming, silentLogger } from '../src/core/logger'
import { RelayClient } from '../src/core/net/relay-client'
import { Backfill } from '../src/core/sync/backfill'
import { startCore, type TestCore, waitFor, waitOnline } from './helpers/core'
import { http, startRelay, type TestRelay } from './helpers/relay'
import { openTestDb, tempFile } from './helpers/store'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup.length = 0
})

const DAY = 86_400_000

async function relayFor(options: Parameters<typeof startRelay>[0] = {}): Promise<TestRelay> {
  const relay = await startRelay(options)
  cleanup.push(() => relay.close())
  return relay
}

/** `count` messages from `from` to `to`, numbered, through the relay's REST API. */
async function sendMany(from: TestUser, to: TestUser, count: number, prefix: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const sent = await http(from.base, 'POST', '/messages', {
      token: from.token,
      body: { clientId: randomUUID(), recipientId: to.user.id, text: `${prefix} ${i}` },
    })
    if (sent.status !== 201) throw new Error(`send failed: ${JSON.stringify(sent.body)}`)
  }
}

/** A logger that keeps what the core said, to tell which way it synced. */
function recordingLogger(): Logger & { lines: { message: string; details?: Record<string, unknown> }[] } {
  const lines: { message: string; details?: Record<string, unknown> }[] = []
  const keep = (message: string, details?: Record<string, unknown>) => {
    lines.push({ message, ...(details && { details }) })
  }
  return { lines, info: keep, warn: keep, error: keep }
}

async function signIn(relay: TestRelay, user: TestUser, logger: Logger, dataDir?: string): Promise<TestCore> {
  const core = await startCore(dataDir, { logger })
  cleanup.push(() => core.dispose())
  // A data folder that has the account signed in starts it by itself (the app launched again).
  if (!dataDir)
    await core.ok('auth.login', {
      relayUrl: relay.url,
      username: user.user.username,
      password: user.password,
    })
  await waitOnline(core)
  return core
}

async function texts(core: TestCore, conversation: ReturnType<typeof dmKey>): Promise<string[]> {
  const out: string[] = []
  let before: number | undefined
  for (;;) {
    const page = await core.ok('messages.page', { conversation, limit: 200, ...(before && { before }) })
    out.push(...page.messages.map((m) => m.text ?? ''))
    if (page.nextBefore === null) return out.reverse()
    before = page.nextBefore
  }
}

describe('a new device', () => {
  it('starts from the snapshot, is usable at once, then fills older history in the background and finds it in search', async () => {
    const relay = await relayFor()
    const ann = await registerUser(relay.url)
    const ben = await registerUser(relay.url)
    const cat = await registerUser(relay.url)
    await befriend(ann, ben)
    await befriend(ann, cat)
    await sendMany(ann, ben, 120, 'to ben')
    const group = await createGroup(ann, [ben, cat], 'Walks')
    for (let i = 0; i < 60; i++) await sendToGroup(cat, group.id, `walk ${i}`)

    const logger = recordingLogger()
    const core = await signIn(relay, ann, logger)
    const started = logger.lines.find((l) => l.message === 'started from a snapshot')
    expect(started?.details).toMatchObject({ conversations: 1, groups: 1, replacing: false })
    // The chat list is there at once, newest activity first, with the group's members known.
    const list = await core.ok('conversations.list', {})
    expect(list.map((c) => c.key)).toEqual([groupKey(group.id), dmKey(ben.user.id)])

    // Older history arrives in the background, with progress, and then all of it is there, once.
    const progress = await core.ok('connection.get', {})
    expect(progress.backfill === undefined || progress.backfill.total === 2).toBe(true)
    await waitFor(
      async () => (await core.ok('connection.get', {})).backfill === undefined,
      15_000,
      'backfilled',
    )
    expect(await texts(core, dmKey(ben.user.id))).toEqual(
      Array.from({ length: 120 }, (_, i) => `to ben ${i}`),
    )
    const walks = (await texts(core, groupKey(group.id))).filter((t) => t.startsWith('walk'))
    expect(walks).toEqual(Array.from({ length: 60 }, (_, i) => `walk ${i}`))
    const hits = await core.ok('search.query', { q: 'ben 3' })
    expect(hits.map((h) => h.message.text)).toContain('to ben 3')
    const states = core.events('connection.changed')
    expect(states.some((s) => s.backfill !== undefined)).toBe(true)
    expect(states.at(-1)?.backfill).toBeUndefined()
  }, 60_000)

  it('resumes its backfill after a restart from where it stopped', async () => {
    const relay = await relayFor()
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await befriend(ann, ben)
    await sendMany(ben, ann, 45, 'old')
    const file = tempFile()
    const db = await openTestDb(file)
    const relayClient = new RelayClient(relay.url, { token: ann.token })
    const snapshot = await relayClient.call('syncSnapshot', { query: { limit: 5 } })
    if (!snapshot.ok) throw new Error(snapshot.error.message)
    applySnapshot(db, ann.user.id, snapshot.value as SyncSnapshot, Date.now(), { replacing: false })

    // The first run quits while its second page is on its way (the app quit): that page is dropped.
    const asked: (number | undefined)[] = []
    const first = new Backfill({
      db,
      me: ann.user.id,
      relay: {
        call: (async (name: 'messagePage', input: { query: { before?: number } }) => {
          asked.push(input.query.before)
          const page = await relayClient.call(name, input as never)
          if (asked.length === 2) void first.stop()
          return page
        }) as never,
      },
      timing: defaultTiming,
      logger: silentLogger,
      pageSize: 15,
    })
    await first.start()
    expect(first.progress).toEqual({ done: 0, total: 1 })
    await db.close()

    const reopened = await openTestDb(file)
    cleanup.push(() => reopened.close())
    const second = new Backfill({
      db: reopened,
      me: ann.user.id,
      relay: {
        call: ((name: 'messagePage', input: { query: { before?: number } }) => {
          asked.push(input.query.before)
          return relayClient.call(name, input as never)
        }) as never,
      },
      timing: defaultTiming,
      logger: silentLogger,
      pageSize: 15,
    })
    await second.start()
    expect(second.progress).toBeNull()
    // The restart asked again for the page that was dropped, not for the first one: it went on, not over.
    expect(asked).toHaveLength(4)
    expect(asked[1]).toBeLessThan(asked[0]!)
    expect(asked[2]).toBe(asked[1])
    expect(asked[3]).toBeLessThan(asked[2]!)
    const stored = reopened.prepare('select text from messages order by server_id').pluck().all()
    expect(stored).toEqual(Array.from({ length: 45 }, (_, i) => `old ${i}`))
    expect(searchMessages(reopened, ann.user.id, { q: 'old 0', limit: 5, offset: 0 }).length).toBeGreaterThan(
      0,
    )
  }, 60_000)
})

describe('a device away longer than the relay keeps the feed', () => {
  it('is told cursor_expired, reads a snapshot and keeps what it had', async () => {
    let now = Date.now()
    const relay = await relayFor({
      clock: () => now,
      env: { FEED_RETENTION_DAYS: '90', SESSION_TTL_DAYS: '365', SESSION_MAX_DAYS: '365' },
    })
    const ann = await registerUser(relay.url)
    const ben = await registerUser(relay.url)
    const dan = await registerUser(relay.url)
    await befriend(ann, ben)
    await befriend(ann, dan)
    await sendMany(ben, ann, 5, 'before')
    const logger = recordingLogger()
    let core = await signIn(relay, ann, logger)
    await waitFor(async () => (await texts(core, dmKey(ben.user.id))).length === 5)
    const dataDir = core.dataDir
    await core.stop()

    // While away: more messages, an edit of an old one, a removed contact; then 100 days pass.
    await sendMany(ben, ann, 3, 'while away')
    const old = await http<{ messages: { id: number; text: string }[] }>(
      relay.url,
      'GET',
      `/messages?with=${ann.user.id}&limit=200`,
      { token: ben.token },
    )
    const first = old.body.messages.find((m) => m.text === 'before 0')!
    await http(relay.url, 'PATCH', `/messages/${first.id}`, {
      token: ben.token,
      body: { text: 'before 0, edited' },
    })
    await http(relay.url, 'DELETE', `/contacts/${ann.user.id}`, { token: dan.token })
    now += 100 * DAY
    await sendMany(ben, ann, 1, 'recent')
    expect(await relay.app.services.feedCompaction.run()).toBeGreaterThan(0)

    core = await signIn(relay, ann, logger, dataDir)
    const again = logger.lines.filter((l) => l.message === 'started from a snapshot')
    expect(again.at(-1)?.details).toMatchObject({ replacing: true })
    await waitFor(
      async () => (await core.ok('connection.get', {})).backfill === undefined,
      15_000,
      'backfilled',
    )
    expect(await texts(core, dmKey(ben.user.id))).toEqual([
      'before 0, edited',
      'before 1',
      'before 2',
      'before 3',
      'before 4',
      'while away 0',
      'while away 1',
      'while away 2',
      'recent 0',
    ])
    const contacts = await core.ok('contacts.list', {})
    expect(contacts.map((c) => c.user.id)).toEqual([ben.user.id])
  }, 60_000)
})
