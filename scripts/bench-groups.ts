/**
 * Group benchmark (`npm run bench:groups`): a relay as a child process on 127.0.0.1 (SQLite in a temp
 * directory, or a fresh database on the PostgreSQL server of BENCH_DATABASE_URL), one 1,000-member
 * group with every member connected over a real socket (spread over load-worker processes), and:
 *   [1] setup: the users, the owner's contacts, BENCH_CATCHUP_GROUPS groups of all of them (POST /groups
 *       then POST /groups/:id/members, 100 at a time), BENCH_HISTORY messages in each;
 *   [2] catch-up: a new device of a member of all those groups: GET /groups, then each group's log
 *       page by page (GET /groups/:id/events), timed, and checked complete;
 *   [3] live: open-loop group messages into the first group at each BENCH_GROUP_RATES rate, senders
 *       spread over the members, every member sending delivery receipts back as the desktop does:
 *       messages and deliveries per second, send→receive latency over every delivery, receipts, relay
 *       CPU per 1,000 deliveries, rows written per message;
 *   [4] capacity: the same at each BENCH_GROUP_SATURATION rate, shorter, to show where it stops keeping up.
 * Everything is bounded in count and time; children, the temp directory and the temp database go away.
 *
 * Knobs (environment): BENCH_GROUP_MEMBERS, BENCH_WORKERS, BENCH_GROUP_RATES (e.g. "10,50"),
 * BENCH_SECONDS, BENCH_GROUP_SATURATION (e.g. "100,200"; empty for none), BENCH_SATURATION_SECONDS,
 * BENCH_CATCHUP_GROUPS, BENCH_HISTORY, BENCH_RECEIPTS (0: members send no delivery receipts, as this
 * bench did before 2026-12-06), BENCH_RECEIPT_HOLD_MS (how long a member's receipt waits to gather
 * more messages, as the desktop's outbox holds a group's delivered receipts; default 1000),
 * BENCH_DATABASE_URL (a PostgreSQL server to make a temp database
 * on), BENCH_PROFILE=1 (CPU-profile the relay in each live step; the profiler slows it down).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import path from 'node:path'
import {
  type Ack,
  type GroupEventsResponse,
  type GroupListResponse,
  type GroupResponse,
  MAX_GROUP_EVENTS_PAGE,
  MAX_MEMBERS_PER_REQUEST,
} from '@parley/shared'
import { readInteger } from '../relay-server/src/config'
import { connectSocket } from './bench/client-socket'
import { Child, forkTs } from './bench/ipc'
import type { WorkerApi } from './bench/load-worker'
import type { ProfileSummary } from './bench/profile'
import { forkRelay } from './bench/relay-child'
import type { RelayApi } from './bench/relay-process'
import { counts, int, mb, ms, percentile, perSecond, seconds, sorted } from './bench/report'
import { guardRun } from './bench/run-guard'
import { createTempDatabase } from './bench/temp-database'

const envInt = (name: string, fallback: number, min: number, max: number) =>
  readInteger(process.env, name, fallback, min, max)
const envRates = (name: string, fallback: string) =>
  (process.env[name] ?? fallback)
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const rate = Number(s)
      if (!Number.isInteger(rate) || rate < 1 || rate > 10_000) throw new Error(`bad ${name} '${s}'`)
      return rate
    })

const settings = {
  members: envInt('BENCH_GROUP_MEMBERS', 1000, 2, 100_000),
  workers: envInt('BENCH_WORKERS', 4, 1, 8),
  rates: envRates('BENCH_GROUP_RATES', '10,50'),
  seconds: envInt('BENCH_SECONDS', 10, 1, 60),
  saturation: envRates('BENCH_GROUP_SATURATION', '100'),
  saturationSeconds: envInt('BENCH_SATURATION_SECONDS', 5, 1, 60),
  receipts: envInt('BENCH_RECEIPTS', 1, 0, 1) === 1,
  /** The desktop's Timing.groupDeliveredHoldMs. */
  receiptHoldMs: envInt('BENCH_RECEIPT_HOLD_MS', 1000, 0, 60_000),
  catchupGroups: envInt('BENCH_CATCHUP_GROUPS', 50, 1, 500),
  history: envInt('BENCH_HISTORY', 200, 0, 10_000),
  databaseUrl: process.env.BENCH_DATABASE_URL ?? '',
  profile: process.env.BENCH_PROFILE === '1',
}

const CONNECT_CONCURRENCY = 100
const CONNECT_DEADLINE_MS = 60_000
const DELIVERY_DRAIN_MS = 30_000
const ACK_TIMEOUT_MS = 30_000
const IPC_MS = 120_000
const WATCHDOG_MS = 6 * 60_000
const SETUP_IN_FLIGHT = 4
const HISTORY_SENDERS = 10
const HISTORY_IN_FLIGHT = 200
const CATCHUP_TARGET_MS = 5000
const LATENCY_TARGET_MS = 250
const TEXT = `bench group message ${'lorem ipsum dolor sit amet '.repeat(3).trim()}`

const { tempDir, children, clientSockets } = guardRun({
  tempPrefix: 'parley-gbench-',
  watchdogMs: WATCHDOG_MS,
})
const failures: string[] = []
const summary: string[] = []
let tempDatabase: Awaited<ReturnType<typeof createTempDatabase>> | null = null

const log = (line = '') => console.log(line)
const sleep = (msValue: number) => new Promise((resolve) => setTimeout(resolve, msValue))
const load = () =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} on ${availableParallelism()} cores`

type RelayStats = Awaited<ReturnType<RelayApi['stats']>>
type SeededUser = Awaited<ReturnType<RelayApi['seedUsers']>>[number]

interface Bench {
  relay: Child<RelayApi>
  workers: Child<WorkerApi>[]
  url: string
  dialect: string
  stats(options?: { gc?: boolean; reset?: boolean }): Promise<RelayStats>
  /** Until the relay has no writes queued (and, if given, sees `sockets` sockets). */
  settle(sockets?: number): Promise<boolean>
  profiled<T>(fn: () => Promise<T>): Promise<T>
  closing(): void
}

async function main() {
  log(
    `group bench: a ${int(settings.members)}-member group, every member connected, over ${settings.workers} load ` +
      `workers; ${settings.rates.map((r) => `${r}/s`).join(', ')} for ${settings.seconds} s, then ` +
      `${settings.saturation.map((r) => `${r}/s`).join(', ') || 'no'} for ${settings.saturationSeconds} s; ` +
      `catch-up of ${settings.catchupGroups} groups with ${settings.history} messages each`,
  )
  log(`machine: ${load()} (other busy processes skew every figure)`)
  const bench = await startBench()
  const users = await bench.relay.call('seedUsers', { count: settings.members }, 120_000)
  const owner = users[0]!
  await bench.relay.call(
    'befriend',
    { pairs: users.slice(1).map((u): [number, number] => [owner.id, u.id]) },
    60_000,
  )
  const groupIds = await setupPhase(bench, users)
  // A member from the first batch of every group, so they read every group from its first entry.
  await catchUpPhase(bench, users[1]!, groupIds)
  const connected = await connectPhase(bench, users)
  const liveGroup = groupIds[0]!
  log()
  log(`[3] live: open-loop group messages into group ${liveGroup}, senders spread over the members`)
  for (const rate of settings.rates) {
    const step = await livePhase(bench, liveGroup, connected, rate, settings.seconds, true)
    summary.push(`  ${rate}/s: ${step}`)
  }
  if (settings.saturation.length > 0) {
    log()
    log('[4] capacity: open loop above the targets')
    for (const rate of settings.saturation) {
      const step = await livePhase(bench, liveGroup, connected, rate, settings.saturationSeconds, false)
      summary.push(`  ${rate}/s (capacity step): ${step}`)
    }
  }
  await shutDown(bench)
}

async function startBench(): Promise<Bench> {
  let databaseUrl = ''
  if (settings.databaseUrl) {
    tempDatabase = await createTempDatabase(settings.databaseUrl, 'parley_gbench')
    databaseUrl = tempDatabase.url
  }
  const relay = forkRelay(path.join(tempDir, 'data'), {
    DATABASE_URL: databaseUrl,
    GROUP_MAX_MEMBERS: String(Math.max(1000, settings.members)),
  })
  children.push(relay)
  let relayClosing = false
  relay.process.once('exit', (code, signal) => {
    if (relayClosing) return
    failures.push(`the relay exited unexpectedly (code ${code}, signal ${signal})`)
    void finish()
  })
  const workers = Array.from({ length: settings.workers }, (_, i) => {
    const worker = new Child<WorkerApi>(`load worker ${i + 1}`, forkTs('./load-worker.ts'))
    children.push(worker)
    return worker
  })
  const ready = await relay.waitFor<{ port: number; node: string }>('ready', 60_000)
  await Promise.all(workers.map((w) => w.waitFor('ready', 60_000)))
  const url = `http://127.0.0.1:${ready.port}`
  const dialect = databaseUrl
    ? 'PostgreSQL'
    : 'SQLite, every commit fsynced before its ack, off the event loop'
  summary.push(`group bench (${dialect}, node ${ready.node}, ${settings.workers} load workers)`)
  log(`relay on ${url} (pid ${relay.process.pid}, ${dialect}), data in ${tempDir}`)
  const stats = (options: { gc?: boolean; reset?: boolean } = {}) => relay.call('stats', options, IPC_MS)
  return {
    relay,
    workers,
    url,
    dialect,
    stats,
    settle: async (sockets?: number) => {
      const deadline = performance.now() + 60_000
      for (;;) {
        const s = await stats()
        if (
          s.committerInflight === 0 &&
          s.publishInflight === 0 &&
          (sockets === undefined || s.sockets === sockets)
        )
          return true
        if (performance.now() > deadline) return false
        await sleep(50)
      }
    },
    profiled: async <T>(fn: () => Promise<T>): Promise<T> => {
      if (settings.profile) await relay.call('profileStart', undefined, IPC_MS)
      try {
        return await fn()
      } finally {
        if (settings.profile) printProfile(await relay.call('profileStop', undefined, IPC_MS))
      }
    },
    closing: () => {
      relayClosing = true
    },
  }
}

function printProfile(summaryOf: ProfileSummary | null) {
  if (!summaryOf) return
  const share = (x: number) => `${((x / summaryOf.busyMs) * 100).toFixed(1)}%`
  log(`    relay CPU profile: ${int(summaryOf.busyMs)} ms busy of ${int(summaryOf.totalMs)} ms sampled`)
  log('      self time by area:')
  for (const a of summaryOf.areas) log(`        ${share(a.ms).padStart(6)}  ${a.name}`)
  log('      self time by function:')
  for (const f of summaryOf.selfTop) log(`        ${share(f.ms).padStart(6)}  ${f.name}`)
  log('      inclusive time, relay functions:')
  for (const f of summaryOf.relayInclusive) log(`        ${share(f.ms).padStart(6)}  ${f.name}`)
}

async function http<T>(
  url: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  if (response.status >= 300) throw new Error(`${method} ${route}: ${response.status} ${text}`)
  return JSON.parse(text) as T
}

/** Runs `fn` over the items, `inFlight` at a time. */
async function pool<T>(items: T[], inFlight: number, fn: (item: T) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(inFlight, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!)
    }),
  )
}

/** The groups, every one with all the users, and their history; returns the group ids. */
async function setupPhase(bench: Bench, users: SeededUser[]): Promise<number[]> {
  log()
  log(
    `[1] setup: ${settings.catchupGroups} groups of ${int(users.length)} (POST /groups, then POST /groups/:id/members ` +
      `${MAX_MEMBERS_PER_REQUEST} at a time), ${settings.history} messages in each`,
  )
  const owner = users[0]!
  const others = users.slice(1).map((u) => u.id)
  const started = performance.now()
  const groupIds: number[] = new Array(settings.catchupGroups)
  const addMs: number[] = []
  const rows0 = await bench.relay.call('rowCounts', undefined, IPC_MS)
  await bench.profiled(() =>
    pool(
      Array.from({ length: settings.catchupGroups }, (_, i) => i),
      SETUP_IN_FLIGHT,
      async (i) => {
        const created = await http<GroupResponse>(bench.url, owner.token, 'POST', '/groups', {
          title: `Bench group ${i + 1}`,
          memberIds: others.slice(0, MAX_MEMBERS_PER_REQUEST - 1),
        })
        groupIds[i] = created.group.id
        for (let at = MAX_MEMBERS_PER_REQUEST - 1; at < others.length; at += MAX_MEMBERS_PER_REQUEST) {
          const t0 = performance.now()
          await http(bench.url, owner.token, 'POST', `/groups/${created.group.id}/members`, {
            userIds: others.slice(at, at + MAX_MEMBERS_PER_REQUEST),
          })
          addMs.push(performance.now() - t0)
        }
      },
    ),
  )
  const groupsMs = performance.now() - started
  const rows1 = await bench.relay.call('rowCounts', undefined, IPC_MS)
  const adds = Float64Array.from(addMs).sort()
  log(
    `    ${settings.catchupGroups} groups of ${int(users.length)} in ${seconds(groupsMs)}; POST /groups/:id/members ` +
      `(${MAX_MEMBERS_PER_REQUEST} people) p50 ${ms(percentile(adds, 50))} p99 ${ms(percentile(adds, 99))}`,
  )
  log(
    `    rows added: ${Object.entries(rows1.rows)
      .map(([table, n]) => [table, n - (rows0.rows[table] ?? 0)] as const)
      .filter(([, n]) => n !== 0)
      .map(([table, n]) => `${table} ${int(n)}`)
      .join(', ')}; database ${mb(rows1.bytes)} (was ${mb(rows0.bytes)})`,
  )

  // History: members' sockets send into every group, closed loop, before the others connect.
  const senders = await Promise.all(
    users
      .slice(1, 1 + Math.min(HISTORY_SENDERS, users.length - 1))
      .map((u) => connectSocket(bench.url, u.token, clientSockets)),
  )
  const sends = groupIds.flatMap((groupId) =>
    Array.from({ length: settings.history }, (_, k) => ({ groupId, k })),
  )
  const errors: Record<string, number> = {}
  let ok = 0
  const historyStarted = performance.now()
  await pool(sends, HISTORY_IN_FLIGHT, async ({ groupId, k }) => {
    const socket = senders[k % senders.length]!
    try {
      const ack = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck('message', {
        clientId: randomUUID(),
        groupId,
        text: `history #${k} ${TEXT}`,
      })) as Ack
      if (ack.ok) ok++
      else errors[ack.error.code] = (errors[ack.error.code] ?? 0) + 1
    } catch {
      errors['ack timeout'] = (errors['ack timeout'] ?? 0) + 1
    }
  })
  const historyMs = performance.now() - historyStarted
  for (const socket of senders) socket.close()
  log(
    `    history: ${int(ok)} messages acked in ${seconds(historyMs)} (${int(perSecond(ok, historyMs))}/s closed loop, ` +
      `${HISTORY_IN_FLIGHT} in flight); errors: ${counts(errors)}`,
  )
  if (ok !== sends.length) failures.push(`setup: only ${ok} of ${sends.length} history messages were written`)
  await bench.settle(0)
  return groupIds
}

/** A new device of a member of every group: GET /groups, then every group's log, page by page. */
async function catchUpPhase(bench: Bench, member: SeededUser, groupIds: number[]) {
  log()
  log(`[2] catch-up: a new device of a member of ${groupIds.length} groups reads them all`)
  const started = performance.now()
  const list = await http<GroupListResponse>(bench.url, member.token, 'GET', '/groups')
  const listMs = performance.now() - started
  let pages = 0
  let entries = 0
  let messages = 0
  const problems: string[] = []
  for (const group of list.groups) {
    let cursor = 0
    let previous = 0
    for (let more = true, guard = 0; more && guard < 1000; guard++) {
      const page = await http<GroupEventsResponse>(
        bench.url,
        member.token,
        'GET',
        `/groups/${group.id}/events?after=${cursor}&limit=${MAX_GROUP_EVENTS_PAGE}`,
      )
      pages++
      for (const event of page.events) {
        if (previous !== 0 && event.seq !== previous + 1)
          problems.push(`group ${group.id}: gap after ${previous}`)
        previous = event.seq
        entries++
        if (event.type === 'message') messages++
      }
      cursor = page.cursor
      more = page.hasMore
    }
    if (cursor !== group.headSeq)
      problems.push(`group ${group.id}: ended at ${cursor}, head ${group.headSeq}`)
  }
  const totalMs = performance.now() - started
  const expected = groupIds.length * settings.history
  if (list.groups.length !== groupIds.length)
    problems.push(`${list.groups.length} groups listed, ${groupIds.length} expected`)
  if (messages !== expected) problems.push(`${messages} messages read, ${expected} expected`)
  log(
    `    GET /groups (${list.groups.length} groups) ${ms(listMs)}; ${int(entries)} entries (${int(messages)} messages) ` +
      `in ${pages} pages of ≤${MAX_GROUP_EVENTS_PAGE}: ${seconds(totalMs)} in all ` +
      `(target < ${seconds(CATCHUP_TARGET_MS)}); ${problems.length === 0 ? 'complete, in order' : problems.slice(0, 5).join('; ')}`,
  )
  if (problems.length > 0) failures.push(`catch-up: ${problems.slice(0, 5).join('; ')}`)
  summary.push(
    `  catch-up of ${list.groups.length} groups × ${settings.history} messages on a new device: ${seconds(totalMs)} ` +
      `(${pages} pages, ${int(entries)} entries; target < ${seconds(CATCHUP_TARGET_MS)}${totalMs < CATCHUP_TARGET_MS ? ', met' : ', MISSED'})`,
  )
}

/** Every member connects, spread over the workers; returns how many are connected. */
async function connectPhase(bench: Bench, users: SeededUser[]): Promise<number> {
  log()
  log(`[2b] connecting the ${int(users.length)} members over ${bench.workers.length} workers`)
  const before = await bench.stats({ gc: true })
  const started = performance.now()
  const results = await Promise.all(
    bench.workers.map((w, k) =>
      w.call(
        'connectMembers',
        {
          url: bench.url,
          tokens: users.filter((_, i) => i % bench.workers.length === k).map((u) => u.token),
          userIds: users.filter((_, i) => i % bench.workers.length === k).map((u) => u.id),
          concurrency: CONNECT_CONCURRENCY,
          deadlineMs: CONNECT_DEADLINE_MS,
        },
        CONNECT_DEADLINE_MS + 60_000,
      ),
    ),
  )
  const connected = results.reduce((n, r) => n + r.connected, 0)
  const errors: Record<string, number> = {}
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
  await bench.settle(connected)
  const after = await bench.stats({ gc: true })
  log(
    `    ${int(connected)} connected in ${seconds(performance.now() - started)}; relay sees ${int(after.sockets)} sockets; ` +
      `RSS ${mb(before.rss)} → ${mb(after.rss)}; errors: ${counts(errors)}`,
  )
  if (connected < users.length) failures.push(`only ${connected} of ${users.length} members connected`)
  return connected
}

/** One open-loop run at `rate` group messages a second; returns the summary line. */
async function livePhase(
  bench: Bench,
  groupId: number,
  connected: number,
  rate: number,
  durationS: number,
  strict: boolean,
): Promise<string> {
  const { workers, relay, stats } = bench
  log(`  ${rate}/s offered for ${durationS} s (${int(rate * connected)} deliveries/s owed)`)
  await bench.settle()
  const rows0 = await relay.call('rowCounts', undefined, IPC_MS)
  const s0 = await stats({ reset: true })
  const tag = `r${rate}-${randomBytes(3).toString('hex')} `
  const listening = (
    await Promise.all(
      workers.map((w) =>
        w.call(
          'groupListen',
          { groupId, tag, receipts: settings.receipts, receiptHoldMs: settings.receiptHoldMs },
          IPC_MS,
        ),
      ),
    )
  ).reduce((a, b) => a + b, 0)
  const startAt = Date.now() + 300
  const sends = await bench.profiled(async () => {
    const result = await Promise.all(
      workers.map((w) =>
        w.call(
          'groupSend',
          {
            groupId,
            tag,
            startAt,
            rate: rate / workers.length,
            durationMs: durationS * 1000,
            ackTimeoutMs: ACK_TIMEOUT_MS,
            text: TEXT,
          },
          durationS * 1000 + ACK_TIMEOUT_MS + 30_000,
        ),
      ),
    )
    // Deliveries still on their way: wait until every acked message reached every listening socket.
    const owed = result.reduce((n, r) => n + r.ackOk, 0) * listening
    const deadline = performance.now() + DELIVERY_DRAIN_MS
    for (;;) {
      const got = (await Promise.all(workers.map((w) => w.call('groupProgress', undefined, IPC_MS)))).reduce(
        (a, b) => a + b,
        0,
      )
      if (got >= owed || performance.now() > deadline) break
      await sleep(50)
    }
    return result
  })
  const s1 = await stats()
  const received = await Promise.all(workers.map((w) => w.call('groupCollect', undefined, IPC_MS)))
  await bench.settle()
  const rows1 = await relay.call('rowCounts', undefined, IPC_MS)

  const sent = sends.reduce((n, r) => n + r.sent, 0)
  const ackOk = sends.reduce((n, r) => n + r.ackOk, 0)
  const ackErrors: Record<string, number> = {}
  for (const r of sends)
    for (const [k, v] of Object.entries(r.ackErrors)) ackErrors[k] = (ackErrors[k] ?? 0) + v
  const deliveries = received.reduce((n, r) => n + r.received, 0)
  const owed = ackOk * listening
  const gaps = received.reduce((n, r) => n + r.gaps, 0)
  const first = Math.min(...sends.map((r) => r.firstSendAt))
  const lastSend = Math.max(...sends.map((r) => r.lastSendAt))
  const lastAck = Math.max(...sends.map((r) => r.lastOkAckAt))
  const lastRecv = Math.max(...received.map((r) => r.lastRecvAt))
  const latencies = sorted(...received.map((r) => r.latencies))
  const acks = sorted(...sends.map((r) => r.ackLatencies))
  const receiptsSent = received.reduce((n, r) => n + r.receipts.sent, 0)
  const receiptsOk = received.reduce((n, r) => n + r.receipts.ok, 0)
  const receiptErrors: Record<string, number> = {}
  for (const r of received)
    for (const [k, v] of Object.entries(r.receipts.errors)) receiptErrors[k] = (receiptErrors[k] ?? 0) + v
  const receiptAcks = sorted(...received.map((r) => r.receipts.latencies))
  const persisted = perSecond(ackOk, lastAck - first)
  const delivered = perSecond(deliveries, lastRecv - first)
  const cpuS = (s1.cpuMicros - s0.cpuMicros) / 1e6
  const wallS = (s1.at - s0.at) / 1000
  const cpuPer1000 = deliveries > 0 ? (cpuS / deliveries) * 1000 : Number.NaN
  const workerCpu = received.map((r) => `${((r.cpuMicros / 1000 / r.wallMs) * 100).toFixed(0)}%`).join(', ')
  const p50 = percentile(latencies, 50)
  const p99 = percentile(latencies, 99)

  const inserted: Record<string, number> = {}
  for (const [table, n] of Object.entries(rows1.rows)) {
    const delta = n - (rows0.rows[table] ?? 0)
    if (delta !== 0) inserted[table] = delta
  }
  const insertedTotal = Object.values(inserted).reduce((a, b) => a + b, 0)
  const changes = rows1.changes !== null && rows0.changes !== null ? rows1.changes - rows0.changes : null
  const perMessage = (n: number) => (ackOk > 0 ? (n / ackOk).toFixed(2) : 'n/a')

  const errorText = [
    Object.keys(ackErrors).length > 0 ? `ack errors: ${counts(ackErrors)}` : '',
    deliveries < owed ? `${int(owed - deliveries)} deliveries missing` : '',
    deliveries > owed ? `${int(deliveries - owed)} deliveries more than owed` : '',
    gaps > 0 ? `${int(gaps)} seq gaps seen by sockets` : '',
    Object.keys(receiptErrors).some((code) => code !== 'rate_limited')
      ? `receipt errors: ${counts(receiptErrors)}`
      : '',
  ]
    .filter(Boolean)
    .join('; ')
  log(
    `    sent ${int(sent)} (${int(perSecond(sent, lastSend - first))}/s, schedule lag max ${ms(Math.max(...sends.map((r) => r.maxLagMs)))}); ` +
      `persisted ${int(ackOk)} → ${int(persisted)} msgs/s; delivered ${int(deliveries)} of ${int(owed)} → ${int(delivered)}/s ` +
      `to ${int(listening)} sockets`,
  )
  log(
    `    send→receive over every delivery p50 ${ms(p50)} p99 ${ms(p99)} max ${ms(percentile(latencies, 100))}; ` +
      `send→ack p50 ${ms(percentile(acks, 50))} p99 ${ms(percentile(acks, 99))}`,
  )
  if (settings.receipts) {
    log(
      `    delivery receipts (one in flight per member, held ${settings.receiptHoldMs} ms to gather, coalesced): ${int(receiptsSent)} sent, ` +
        `${int(receiptsOk)} ok → ${int(perSecond(receiptsOk, lastRecv - first))}/s; ack p50 ${ms(percentile(receiptAcks, 50))} ` +
        `p99 ${ms(percentile(receiptAcks, 99))}` +
        (receiptErrors.rate_limited ? `; rate_limited ×${int(receiptErrors.rate_limited)}` : ''),
    )
  }
  log(
    `    relay CPU ${cpuS.toFixed(2)} s over ${wallS.toFixed(1)} s (${((cpuS / wallS) * 100).toFixed(0)}% of a core) → ` +
      `${cpuPer1000.toFixed(4)} CPU s per 1,000 deliveries; event-loop delay p99 ${ms(s1.loop.p99Ms)} max ${ms(s1.loop.maxMs)}; ` +
      `RSS ${mb(s1.rss)}; load workers CPU ${workerCpu}`,
  )
  log(
    `    rows per message: ${perMessage(insertedTotal)} inserted (${Object.entries(inserted)
      .map(([t, n]) => `${t} ${perMessage(n)}`)
      .join(', ')})` +
      (changes === null
        ? ''
        : `; ${perMessage(changes)} rows changed in all (inserts + updates + deletes, SQLite total_changes)`),
  )
  const txs = s1.transactions - s0.transactions
  if (txs > 0)
    log(
      `    ${int(txs)} transactions, ${((s1.committerOps - s0.committerOps) / txs).toFixed(1)} writes each, avg ` +
        `${ms((s1.transactionMs - s0.transactionMs) / txs)}, longest ${ms(s1.longestTransactionMs)}`,
    )
  log(`    errors: ${errorText || 'none'}; ${load()}`)
  if (strict && errorText) failures.push(`${rate}/s: ${errorText}`)
  return (
    `${int(persisted)} msgs/s persisted, ${int(delivered)} deliveries/s; send→receive p50 ${ms(p50)} p99 ${ms(p99)}` +
    (strict ? (p99 < LATENCY_TARGET_MS ? ' (p99 target met)' : ` (p99 over ${LATENCY_TARGET_MS} ms)`) : '') +
    (settings.receipts ? `; ${int(perSecond(receiptsOk, lastRecv - first))} receipts/s` : '') +
    `; relay ${cpuPer1000.toFixed(4)} CPU s / 1,000 deliveries; ${perMessage(insertedTotal)} rows inserted` +
    (changes === null ? '' : `, ${perMessage(changes)} changed`) +
    ' per message' +
    (errorText ? ` [${errorText}]` : '')
  )
}

async function shutDown(bench: Bench) {
  log()
  const remaining = (
    await Promise.all(bench.workers.map((w) => w.call('closeAll', undefined, IPC_MS)))
  ).reduce((a, b) => a + b, 0)
  await bench.settle(0)
  bench.closing()
  const shutdown = await bench.relay.call('close', undefined, 60_000)
  log(`closed the last ${int(remaining)} sockets; relay shut down in ${ms(shutdown.ms)}`)
  await bench.relay.stop(5000)
  await Promise.all(bench.workers.map((w) => w.call('exit', undefined, IPC_MS).then(() => w.stop(5000))))
}

async function dropTempDatabase() {
  if (!tempDatabase) return
  for (const child of children) child.kill()
  await sleep(200)
  await tempDatabase.drop()
}

let finished = false
/** Prints the summary and any failures, drops the temp database, then exits (the exit handler cleans up). */
async function finish(): Promise<never> {
  if (!finished) {
    finished = true
    log()
    for (const line of summary) log(line)
    log(`  (${load()} at the end)`)
    if (failures.length > 0) {
      console.error(`\nbench FAILED:\n  ${failures.join('\n  ')}`)
      process.exitCode = 1
    }
    await dropTempDatabase()
  }
  process.exit()
}

main()
  .catch((error) => {
    failures.push(error instanceof Error ? (error.stack ?? error.message) : String(error))
  })
  .finally(finish)
