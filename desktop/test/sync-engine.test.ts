import { EventEmitter } from 'node:events'
import type {
  ClientEventName,
  ClientEventPayload,
  ClientEventResults,
  FeedEvent,
  Result,
  SyncQuery,
  SyncSnapshot,
} from '@parley/shared'
import { afterEach, describe, expect, it } from 'vitest'
import type { ApplySummary } from '../src/core/db/apply'
import type { LocalDb } from '../src/core/db/local-db'
import { cursorOf } from '../src/core/db/tables/sync-state'
import { defaultTiming, silentLogger } from '../src/core/logger'
import type { RelaySocketEvents } from '../src/core/net/relay-socket'
import { SyncEngine } from '../src/core/sync/sync-engine'
import { waitFor } from './helpers/core'
import { feed, ME, message, openTestDb } from './helpers/store'

/** A relay played by the test: it serves `feed` to `sync` requests and pushes live events on cue. */
class ScriptedRelay extends EventEmitter<RelaySocketEvents> {
  connected = false
  feed: FeedEvent[] = []
  syncRequests: SyncQuery[] = []
  failNextSyncs = 0
  /** While set, sync answers wait for it (to push live events in the middle of a catch-up). */
  gate: Promise<void> | undefined

  open(): void {
    this.connected = true
    this.emit('connected')
  }

  close(): void {
    this.connected = false
    this.emit('disconnected', 'io client disconnect')
  }

  signal(): void {}

  async request<E extends ClientEventName>(
    event: E,
    payload: ClientEventPayload<E>,
  ): Promise<Result<ClientEventResults[E]>> {
    if (event !== 'sync') throw new Error(`unexpected ${event}`)
    const query = payload as SyncQuery
    this.syncRequests.push(query)
    await this.gate
    if (this.failNextSyncs > 0) {
      this.failNextSyncs -= 1
      return { ok: false, error: { code: 'internal_error', message: 'scripted failure' } }
    }
    const limit = query.limit ?? 500
    const after = this.feed.filter((e) => e.seq > query.after)
    const events = after.slice(0, limit)
    const value = { events, cursor: events.at(-1)?.seq ?? query.after, hasMore: after.length > limit }
    return { ok: true, value } as Result<ClientEventResults[E]>
  }

  /** Appends messages from user 2 to the feed and returns their events (not yet pushed live). */
  append(count: number): FeedEvent[] {
    const start = this.feed.length + 1
    const events = feed(
      start,
      Array.from({ length: count }, (_, i) => ({
        type: 'message' as const,
        data: message({ id: 1000 + start + i }),
      })),
    )
    this.feed.push(...events)
    return events
  }

  push(event: FeedEvent): void {
    this.emit('feed', event)
  }
}

const EMPTY_SNAPSHOT: SyncSnapshot = {
  cursor: 0,
  floor: 0,
  user: {
    id: ME,
    username: 'me',
    firstName: 'Me',
    lastName: 'Myself',
    avatarImageId: null,
    createdAt: 0,
    email: 'me@example.com',
  },
  contacts: [],
  users: [],
  conversations: [],
  groups: [],
}

let db: LocalDb
let engine: SyncEngine | undefined

afterEach(async () => {
  await engine?.stop()
  engine = undefined
  await db?.close()
})

async function setUp() {
  db = await openTestDb()
  const relay = new ScriptedRelay()
  const applied: ApplySummary[] = []
  engine = new SyncEngine({
    db,
    me: ME,
    socket: relay,
    relay: {
      // An empty snapshot at cursor 0: these cases drive the feed from its first event.
      call: async (name: string) =>
        name === 'syncSnapshot'
          ? { ok: true, value: EMPTY_SNAPSHOT }
          : { ok: false, error: { code: 'network', message: 'not scripted' } },
    } as never,
    clock: Date.now,
    timing: { ...defaultTiming, retryBaseMs: 10, retryMaxMs: 20 },
    logger: silentLogger,
  })
  engine.on('applied', (summary) => applied.push(summary))
  const messageIds = () =>
    db.prepare('select server_id from messages order by server_id').pluck().all() as number[]
  return { relay, engine, applied, messageIds }
}

describe('the sync engine', () => {
  it('catches up from its cursor in pages of a thousand, then is online', async () => {
    const { relay, engine, messageIds } = await setUp()
    relay.append(2500)
    engine.start()
    await waitFor(() => engine.online)
    expect(relay.syncRequests.map((r) => r.after)).toEqual([0, 1000, 2000])
    expect(cursorOf(db)).toBe(2500)
    expect(messageIds()).toHaveLength(2500)
  })

  it('holds live events that arrive during a catch-up and applies each once, in order', async () => {
    const { relay, engine, messageIds } = await setUp()
    relay.append(5)
    let open!: () => void
    relay.gate = new Promise((resolve) => {
      open = resolve
    })
    engine.start()
    await waitFor(() => relay.syncRequests.length === 1)
    // While the first page is on its way: events 6 and 7 happen and are pushed live, 7 twice.
    const [six, seven] = relay.append(2)
    relay.push(seven!)
    relay.push(six!)
    relay.push(seven!)
    relay.gate = undefined
    open()
    await waitFor(() => engine.online)
    expect(cursorOf(db)).toBe(7)
    expect(messageIds()).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007])
  })

  it('a live event past a gap triggers a catch-up that fetches what was missed', async () => {
    const { relay, engine, applied, messageIds } = await setUp()
    relay.append(3)
    engine.start()
    await waitFor(() => engine.online)
    const missed = relay.append(4)
    relay.push(missed[3]!) // seq 7 arrives; 4 to 6 never came live
    await waitFor(() => cursorOf(db) === 7 && engine.online)
    expect(relay.syncRequests.at(-1)?.after).toBe(3)
    expect(messageIds()).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007])
    expect(applied.reduce((n, s) => n + s.applied, 0)).toBe(7)
  })

  it('ignores a live event at or below the cursor, and applies the next one directly', async () => {
    const { relay, engine, applied } = await setUp()
    const [first, second] = relay.append(2)
    engine.start()
    await waitFor(() => engine.online)
    const requests = relay.syncRequests.length
    relay.push(first!)
    relay.push(second!)
    expect(applied.reduce((n, s) => n + s.applied, 0)).toBe(2)
    const [third] = relay.append(1)
    relay.push(third!)
    expect(cursorOf(db)).toBe(3)
    expect(relay.syncRequests.length).toBe(requests)
  })

  it('a failed catch-up is retried while connected, and the error shows meanwhile', async () => {
    const { relay, engine } = await setUp()
    relay.append(3)
    relay.failNextSyncs = 2
    const states: string[] = []
    engine.on('state', (info) => states.push(`${info.state}:${info.lastError?.code ?? ''}`))
    engine.start()
    await waitFor(() => engine.online)
    expect(states).toContain('syncing:internal_error')
    expect(states.at(-1)).toBe('online:')
    expect(cursorOf(db)).toBe(3)
  })

  it('a reconnect catches up from where the last connection stopped', async () => {
    const { relay, engine, messageIds } = await setUp()
    relay.append(2)
    engine.start()
    await waitFor(() => engine.online)
    relay.close()
    expect(engine.info.state).toBe('connecting')
    relay.append(3)
    relay.open()
    await waitFor(() => engine.online)
    expect(relay.syncRequests.at(-1)?.after).toBe(2)
    expect(messageIds()).toHaveLength(5)
  })
})
