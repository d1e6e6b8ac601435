/**
 * Relay benchmark (`npm run bench`): starts a relay as a child process on 127.0.0.1 with SQLite in
 * a temp directory, drives it from load-worker processes, and measures, in this order (each a
 * function below; the printed step labels [1] to [4] and [2b] are kept for comparing runs):
 *   idleSocketsPhase: 10,000 authenticated Socket.IO connections, their time and relay memory;
 *   messagesPhase: sender/receiver pairs at an open-loop low rate (500/s), then at the offered rate
 *      of 2,000/s, each receiver sending delivery receipts back as the desktop does: persisted and
 *      delivered rates, send→receive and send→ack latency, errors; when that is over capacity,
 *      again at about half the rate the relay achieved, to show latency where it keeps up;
 *   missedMessagesPhase: a user pulls 10,000 messages sent while they were offline, over the
 *      socket and GET /sync;
 *   disconnectStormPhase: the idle sockets close at once; how long until the relay has settled;
 *   reconnectStormPhase: they all come back at once and catch up on their feeds; how long until
 *      every one is caught up, and the longest event-loop stall meanwhile;
 *   saturationPhase: 5,000/s and 10,000/s offered (last, as far over capacity the relay may stall).
 * Every loop is bounded in count and time; children and the temp directory go away on any exit.
 *
 * Knobs (environment): BENCH_IDLE_SOCKETS, BENCH_WORKERS, BENCH_PAIRS, BENCH_RATE, BENCH_SECONDS,
 * BENCH_SATURATION (e.g. "5000,10000"; empty for none), BENCH_SATURATION_SECONDS,
 * BENCH_SYNC_MESSAGES, BENCH_RECEIPTS (0: receivers send no delivery receipts, as this bench did
 * before 2026-12-06; its earlier figures were without them), BENCH_DATABASE_URL (a PostgreSQL server to make a temp database on),
 * BENCH_RELAYS (several relays on that one database and one Redis, BENCH_REDIS_URL, default
 * redis://127.0.0.1:6379; each pair's sender and receiver on different relays, so every message
 * crosses Redis; the figures then add up all relays),
 * BENCH_LOW_RATE (the first, low rate; 0 for none), BENCH_PIN=1 (the relay on CPU 0, everything
 * else on the other CPUs, with taskset: the "pinned" variant),
 * BENCH_PROFILE=1 (CPU-profile the relay in each step and print where its
 * time went; the profiler slows the relay down), BENCH_RELAY_NODE_FLAGS (node flags for the relay's
 * process, such as --perf-basic-prof to read its JavaScript frames in `perf record`).
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import path from 'node:path'
import { type Ack, MAX_SYNC_PAGE, type SyncResponse } from '@parley/shared'
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

const settings = {
  idleSockets: envInt('BENCH_IDLE_SOCKETS', 10_000, 0, 50_000),
  workers: envInt('BENCH_WORKERS', 2, 1, 8),
  pairs: envInt('BENCH_PAIRS', 100, 1, 2000),
  rate: envInt('BENCH_RATE', 2000, 1, 100_000),
  lowRate: envInt('BENCH_LOW_RATE', 500, 0, 100_000),
  seconds: envInt('BENCH_SECONDS', 10, 1, 60),
  saturation: (process.env.BENCH_SATURATION ?? '5000,10000')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => {
      const rate = Number(s)
      if (!Number.isInteger(rate) || rate < 1 || rate > 100_000)
        throw new Error(`bad BENCH_SATURATION '${s}'`)
      return rate
    }),
  saturationSeconds: envInt('BENCH_SATURATION_SECONDS', 5, 1, 60),
  syncMessages: envInt('BENCH_SYNC_MESSAGES', 10_000, 1, 100_000),
  receipts: envInt('BENCH_RECEIPTS', 1, 0, 1) === 1,
  profile: process.env.BENCH_PROFILE === '1',
  pin: process.env.BENCH_PIN === '1',
  databaseUrl: process.env.BENCH_DATABASE_URL ?? '',
  relays: envInt('BENCH_RELAYS', 1, 1, 4),
  redisUrl: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
}

const MAX_SOCKETS_PER_WORKER = 19_000
/** Read before BENCH_PIN narrows this process to fewer CPUs. */
const CPUS = availableParallelism()
const CONNECT_CONCURRENCY = 200
const IDLE_CONNECT_DEADLINE_MS = 90_000
const DRAIN_MS = 30_000
const ACK_TIMEOUT_MS = 30_000
const SETTLE_MS = 90_000
const IPC_MS = 120_000
const WATCHDOG_MS = 8 * 60_000
const BACKFILL_IN_FLIGHT = 1000
const TEXT = `bench message ${'lorem ipsum dolor sit amet '.repeat(3).trim()}`

let tempDatabase: Awaited<ReturnType<typeof createTempDatabase>> | null = null
const { tempDir, children, clientSockets } = guardRun({
  tempPrefix: 'parley-bench-',
  watchdogMs: WATCHDOG_MS,
})
const failures: string[] = []
/** The closing summary, printed in this order whatever order the steps ran in. */
const SUMMARY_ORDER = [
  'head',
  'idle',
  'low',
  'messages',
  'half',
  'saturation',
  'sync',
  'disconnect',
  'reconnect',
] as const
const summary = new Map<(typeof SUMMARY_ORDER)[number], string>()

const log = (line = '') => console.log(line)
const sleep = (msValue: number) => new Promise((resolve) => setTimeout(resolve, msValue))

type RelayStats = Awaited<ReturnType<RelayApi['stats']>> & {
  /** PostgreSQL: CPU time of the server processes serving the bench's database, by pid. */
  databaseCpu: Map<number, number>
}
type RunResult = Awaited<ReturnType<WorkerApi['run']>>

/** Relay CPU (as % of one core), event-loop delay and group commits between two stats readings. */
function relayUse(before: RelayStats, after: RelayStats): string {
  const wall = after.at - before.at
  const cpu = ((after.cpuMicros - before.cpuMicros) / 1000 / wall) * 100
  const txs = after.transactions - before.transactions
  const ops = after.committerOps - before.committerOps
  const txMs = after.transactionMs - before.transactionMs
  let databaseMicros = 0
  for (const [pid, micros] of after.databaseCpu) databaseMicros += micros - (before.databaseCpu.get(pid) ?? 0)
  const database =
    after.databaseCpu.size > 0 ? `, PostgreSQL ${((databaseMicros / 1000 / wall) * 100).toFixed(0)}%` : ''
  const commits =
    txs > 0
      ? `; ${int(txs)} transactions, ${(ops / txs).toFixed(1)} writes each, avg ${ms(txMs / txs)}, ` +
        `longest ${ms(after.longestTransactionMs)}`
      : ''
  return (
    `${settings.relays > 1 ? `${settings.relays} relays'` : 'relay'} CPU ${cpu.toFixed(0)}% of a core${database}, RSS ${mb(after.rss)}, event-loop delay p99 ${ms(after.loop.p99Ms)} ` +
    `max ${ms(after.loop.maxMs)} (longest GC pause ${ms(after.loop.gcMaxMs)}, GC ${ms(after.loop.gcTotalMs - before.loop.gcTotalMs)} in all)${commits}`
  )
}

/**
 * CPU time per persisted message, the relays' and PostgreSQL's: unlike rates, it holds when other
 * processes take the cores (they slow the bench down, but a message costs about the same).
 */
function cpuPerMessage(before: RelayStats, after: RelayStats, messages: number): string {
  if (messages === 0) return 'no messages'
  const relay = (after.cpuMicros - before.cpuMicros) / 1000 / messages
  let databaseMicros = 0
  for (const [pid, micros] of after.databaseCpu) databaseMicros += micros - (before.databaseCpu.get(pid) ?? 0)
  const database = after.databaseCpu.size > 0 ? `, PostgreSQL ${ms(databaseMicros / 1000 / messages)}` : ''
  return `CPU per message: relay ${ms(relay)}${database}`
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

type Users = Awaited<ReturnType<RelayApi['seedUsers']>>
type SeededUser = Users[number]

/**
 * What every phase works with: the relay children (`relay` and `url` are the first; with several,
 * stats add theirs up), the load workers, and ways to watch the relays.
 */
interface Bench {
  relay: Child<RelayApi>
  relays: Child<RelayApi>[]
  workers: Child<WorkerApi>[]
  url: string
  urls: string[]
  stats(options?: { gc?: boolean; reset?: boolean }): Promise<RelayStats>
  /** Waits until the relay has no presence updates or writes in flight and all sockets are as expected. */
  settle(sockets?: number): Promise<{ settled: boolean; stats: RelayStats }>
  profiled<T>(fn: () => Promise<T>): Promise<T>
  /** Sockets dropped since the last look (not closed by the bench), by reason. */
  drops(): Promise<Record<string, number>>
  /** From here on the relay's exit is expected. */
  closing(): void
}

async function main() {
  log(
    `relay bench: ${int(settings.idleSockets)} idle sockets, ${settings.pairs} pairs over ` +
      `${settings.workers} load workers, ${settings.rate}/s for ${settings.seconds} s then ` +
      `${settings.saturation.map((r) => `${r}/s`).join(', ') || 'no'} saturation steps, ` +
      `sync of ${int(settings.syncMessages)} messages, ${settings.receipts ? 'receivers sending delivery receipts' : 'no receipts'}`,
  )
  log(
    `machine: ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other busy processes skew every figure)`,
  )
  if (settings.pairs < settings.workers) throw new Error('BENCH_PAIRS must be at least BENCH_WORKERS')
  const socketsPerWorker = Math.ceil(settings.idleSockets / settings.workers) + 2 * settings.pairs
  if (socketsPerWorker > MAX_SOCKETS_PER_WORKER) {
    throw new Error(`${socketsPerWorker} sockets per worker is over ${MAX_SOCKETS_PER_WORKER}: add workers`)
  }

  const bench = await startBench()
  const users = await seedUsers(bench)
  const connected = await idleSocketsPhase(bench, users.idle)
  await messagesPhase(bench, users.pairs, connected)
  // Before the saturation steps, which may leave the relay stalled for a while.
  await missedMessagesPhase(bench, users.syncPeer, users.syncUser)
  await disconnectStormPhase(bench, connected)
  await reconnectStormPhase(bench, connected)
  // Last: far over capacity the relay can stall long enough to drop sockets.
  await saturationPhase(bench)
  await shutDown(bench)
}

/** The relays, configured through their environment like the real server, and the load workers. */
async function startBench(): Promise<Bench> {
  if (settings.relays > 1 && !settings.databaseUrl)
    throw new Error('BENCH_RELAYS needs BENCH_DATABASE_URL: relays share a PostgreSQL database')
  if (settings.relays > 1 && settings.pin)
    throw new Error('BENCH_PIN=1 pins one relay: not with BENCH_RELAYS')
  if (settings.databaseUrl) tempDatabase = await createTempDatabase(settings.databaseUrl, 'parley_rbench')
  let relayClosing = false
  const shared = {
    DATABASE_URL: tempDatabase?.url ?? '',
    ...(settings.relays > 1 && {
      REDIS_URL: settings.redisUrl,
      REDIS_KEY_PREFIX: `parley-bench-${randomUUID()}`,
    }),
  }
  const startRelay = async (n: number) => {
    const relay = forkRelay(path.join(tempDir, `data-${n}`), shared)
    children.push(relay)
    relay.process.once('exit', (code, signal) => {
      if (relayClosing) return
      failures.push(`relay ${n + 1} exited unexpectedly (code ${code}, signal ${signal})`)
      finish()
    })
    return { relay, ready: await relay.waitFor<{ port: number; node: string }>('ready', 60_000) }
  }
  const workers = Array.from({ length: settings.workers }, (_, i) => {
    const worker = new Child<WorkerApi>(`load worker ${i + 1}`, forkTs('./load-worker.ts'))
    children.push(worker)
    return worker
  })
  // One at a time: the first one migrates the database.
  const started: Awaited<ReturnType<typeof startRelay>>[] = []
  for (let n = 0; n < settings.relays; n++) started.push(await startRelay(n))
  await Promise.all(workers.map((w) => w.waitFor('ready', 60_000)))
  const relays = started.map((r) => r.relay)
  const relay = relays[0]!
  if (settings.pin) pinProcesses(relay, workers)
  const ready = started[0]!.ready
  const urls = started.map((r) => `http://127.0.0.1:${r.ready.port}`)
  const url = urls[0]!
  const database = tempDatabase
    ? `PostgreSQL, synchronous_commit on${settings.relays > 1 ? `; ${settings.relays} relays, one Redis` : ''}`
    : 'SQLite, every commit fsynced before its ack, off the event loop'
  summary.set('head', `relay bench (${database}; node ${ready.node})`)
  log(`relay on ${urls.join(', ')} (pid ${relays.map((r) => r.process.pid).join(', ')}), data in ${tempDir}`)

  const databaseName = tempDatabase ? new URL(tempDatabase.url).pathname.slice(1) : null
  const stats = async (options: { gc?: boolean; reset?: boolean } = {}): Promise<RelayStats> => {
    const each = await Promise.all(relays.map((r) => r.call('stats', options, IPC_MS)))
    const databaseCpu = databaseName ? postgresCpu(databaseName) : new Map<number, number>()
    return { ...addUp(each), databaseCpu }
  }
  return {
    relay,
    relays,
    workers,
    url,
    urls,
    stats,
    settle: async (sockets?: number) => {
      const deadline = performance.now() + SETTLE_MS
      for (;;) {
        const s = await stats()
        if (
          s.publishInflight === 0 &&
          s.committerInflight === 0 &&
          (sockets === undefined || s.sockets === sockets)
        )
          return { settled: true, stats: s }
        if (performance.now() > deadline) return { settled: false, stats: s }
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
    drops: async () => {
      const all: Record<string, number> = {}
      for (const d of await Promise.all(workers.map((w) => w.call('drops', undefined, IPC_MS))))
        for (const [k, v] of Object.entries(d)) all[k] = (all[k] ?? 0) + v
      return all
    },
    closing: () => {
      relayClosing = true
    },
  }
}

/** Users: idle ones, the pairs, and a peer and a recipient for the sync test. */
async function seedUsers({ relay }: Bench) {
  const started = performance.now()
  const total = settings.idleSockets + 2 * settings.pairs + 2
  const users = await relay.call('seedUsers', { count: total }, 120_000)
  const idle = users.slice(0, settings.idleSockets)
  const pairUsers = users.slice(settings.idleSockets, settings.idleSockets + 2 * settings.pairs)
  const [syncPeer, syncUser] = users.slice(-2) as [SeededUser, SeededUser]
  const pairs = Array.from({ length: settings.pairs }, (_, i) => ({
    sender: pairUsers[2 * i]!,
    receiver: pairUsers[2 * i + 1]!,
  }))
  await relay.call(
    'befriend',
    {
      pairs: [
        ...pairs.map((p): [number, number] => [p.sender.id, p.receiver.id]),
        [syncPeer.id, syncUser.id],
      ],
    },
    60_000,
  )
  log(
    `seeded ${int(total)} users with sessions and ${settings.pairs + 1} contact pairs in ${seconds(performance.now() - started)}`,
  )
  return { idle, pairs, syncPeer, syncUser }
}

/** Connects the idle sockets; returns how many connected (they stay open until the storm). */
async function idleSocketsPhase(
  { workers, urls, stats, settle, profiled }: Bench,
  idleUsers: SeededUser[],
): Promise<number> {
  log()
  log(
    `[1] idle sockets: connecting ${int(settings.idleSockets)} (${CONNECT_CONCURRENCY} handshakes in flight per worker)`,
  )
  const before = await stats({ gc: true, reset: true })
  const started = performance.now()
  const connects = await profiled(() =>
    Promise.all(
      workers.map((w, k) =>
        w.call(
          'connectIdle',
          {
            url: urls[k % urls.length]!,
            tokens: idleUsers.filter((_, i) => i % workers.length === k).map((u) => u.token),
            concurrency: CONNECT_CONCURRENCY,
            deadlineMs: IDLE_CONNECT_DEADLINE_MS,
          },
          IDLE_CONNECT_DEADLINE_MS + 60_000,
        ),
      ),
    ),
  )
  const connectMs = performance.now() - started
  const connected = connects.reduce((n, c) => n + c.connected, 0)
  const connectErrors: Record<string, number> = {}
  for (const c of connects)
    for (const [k, v] of Object.entries(c.errors)) connectErrors[k] = (connectErrors[k] ?? 0) + v
  const handshakes = sorted(...connects.map((c) => c.latencies))
  const settledIdle = await settle(connected)
  const after = await stats({ gc: true })
  const rssDelta = after.rss - before.rss
  const perThousand = connected > 0 ? rssDelta / (connected / 1000) : Number.NaN
  log(
    `    ${int(connected)} of ${int(settings.idleSockets)} connected in ${seconds(connectMs)} ` +
      `(${int(perSecond(connected, connectMs))}/s); handshake p50 ${ms(percentile(handshakes, 50))} ` +
      `p99 ${ms(percentile(handshakes, 99))} max ${ms(percentile(handshakes, 100))}; errors: ${counts(connectErrors)}`,
  )
  log(
    `    relay sees ${int(after.sockets)} sockets${settledIdle.settled ? '' : ' (presence updates still running)'}`,
  )
  log(
    `    relay RSS ${mb(before.rss)} → ${mb(after.rss)} (+${mb(rssDelta)}, ${mb(perThousand)} per 1,000 sockets); ` +
      `heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)} (${mb((after.heapUsed - before.heapUsed) / Math.max(1, connected / 1000))} per 1,000)`,
  )
  log(`    ${relayUse(before, after)}`)
  if (connected < settings.idleSockets)
    failures.push(`only ${connected} of ${settings.idleSockets} idle sockets connected`)
  summary.set(
    'idle',
    `  idle sockets: ${int(connected)} connected in ${seconds(connectMs)}; relay RSS +${mb(rssDelta)} → ` +
      `${mb(perThousand)} per 1,000 sockets`,
  )
  return connected
}

/** Messages between pairs, open loop, at the offered rate (and at half capacity if that was over it). */
async function messagesPhase(
  bench: Bench,
  pairs: { sender: SeededUser; receiver: SeededUser }[],
  idle: number,
) {
  const { workers, urls, settle } = bench
  log()
  const pairConnects = await Promise.all(
    workers.map((w, k) =>
      w.call(
        'connectPairs',
        {
          pairs: pairs
            .map((p, i) => ({
              senderToken: p.sender.token,
              receiverToken: p.receiver.token,
              receiverId: p.receiver.id,
              senderUrl: urls[i % urls.length]!,
              receiverUrl: urls[(i + 1) % urls.length]!,
            }))
            .filter((_, i) => i % workers.length === k),
          deadlineMs: 30_000,
        },
        60_000,
      ),
    ),
  )
  const pairFailures = pairConnects.reduce((n, c) => n + c.failed, 0)
  if (pairFailures > 0) throw new Error(`${pairFailures} pair sockets failed to connect`)
  await settle()
  log(
    `[2] messages: ${settings.pairs} sender→receiver pairs connected (${int(idle)} idle sockets still open)`,
  )

  if (settings.lowRate > 0) {
    const low = await messagePhase(bench, 'low rate', settings.lowRate, settings.seconds, true)
    summary.set('low', `  messages @${settings.lowRate}/s offered: ${low.line}`)
  }
  const base = await messagePhase(bench, 'offered rate', settings.rate, settings.seconds, true)
  summary.set('messages', `  messages @${settings.rate}/s offered: ${base.line}`)
  if (base.persisted < 0.95 * settings.rate) {
    // The offered rate was over capacity: also show latency where the relay keeps up.
    const rate = Math.max(1, Math.round(base.persisted / 2 / 100) * 100)
    const under = await messagePhase(
      bench,
      'at about half the persisted rate',
      rate,
      settings.saturationSeconds,
      true,
    )
    summary.set('half', `  messages @${rate}/s offered (≈½ of capacity): ${under.line}`)
  }
}

/** One open-loop run of sends between the pairs at `rate`; `strict` makes lost or refused messages a failure. */
async function messagePhase(
  { workers, stats, settle, profiled, drops }: Bench,
  label: string,
  rate: number,
  durationS: number,
  strict: boolean,
) {
  log(`  ${label}: ${int(rate)}/s offered for ${durationS} s`)
  const quiet = await settle()
  if (!quiet.settled) log('    (relay still busy with the previous step)')
  const s0 = await stats({ reset: true })
  const startAt = Date.now() + 300
  const results: RunResult[] = await profiled(() =>
    Promise.all(
      workers.map((w) =>
        w.call(
          'run',
          {
            startAt,
            rate: rate / workers.length,
            durationMs: durationS * 1000,
            drainMs: DRAIN_MS,
            ackTimeoutMs: ACK_TIMEOUT_MS,
            text: TEXT,
            receipts: settings.receipts,
          },
          durationS * 1000 + DRAIN_MS + ACK_TIMEOUT_MS + 30_000,
        ),
      ),
    ),
  )
  const s1 = await stats()
  // Over capacity, the relay may still be working through queued sends the clients gave up on.
  const backlog = s1.committerInflight
  const drainStarted = performance.now()
  const drained = backlog > 0 ? await settle() : { settled: true }
  const drainMs = performance.now() - drainStarted
  const dropped = await drops()
  const sum = (f: (r: RunResult) => number) => results.reduce((n, r) => n + f(r), 0)
  const first = Math.min(...results.map((r) => r.firstSendAt))
  const lastSend = Math.max(...results.map((r) => r.lastSendAt))
  const lastAck = Math.max(...results.map((r) => r.lastOkAckAt))
  const lastRecv = Math.max(...results.map((r) => r.lastRecvAt))
  const sent = sum((r) => r.sent)
  const ackOk = sum((r) => r.ackOk)
  const received = sum((r) => r.received)
  const unacked = sum((r) => r.unacked)
  const undelivered = sum((r) => r.undelivered)
  const duplicates = sum((r) => r.duplicates)
  const errors: Record<string, number> = {}
  for (const r of results) for (const [k, v] of Object.entries(r.ackErrors)) errors[k] = (errors[k] ?? 0) + v
  const recv = sorted(...results.map((r) => r.recvLatencies))
  const acks = sorted(...results.map((r) => r.ackLatencies))
  const receiptsSent = sum((r) => r.receipts.sent)
  const receiptsOk = sum((r) => r.receipts.ok)
  const receiptErrors: Record<string, number> = {}
  for (const r of results)
    for (const [k, v] of Object.entries(r.receipts.errors)) receiptErrors[k] = (receiptErrors[k] ?? 0) + v
  const receiptAcks = sorted(...results.map((r) => r.receipts.latencies))
  const sentRate = perSecond(sent, lastSend - first)
  const persisted = perSecond(ackOk, lastAck - first)
  const delivered = perSecond(received, lastRecv - first)
  const workerCpu = results.map((r) => `${((r.cpuMicros / 1000 / r.wallMs) * 100).toFixed(0)}%`).join(', ')
  const droppedCount = Object.values(dropped).reduce((a, b) => a + b, 0)
  const errorText = [
    Object.keys(errors).length > 0 ? `ack errors: ${counts(errors)}` : '',
    unacked > 0 ? `${int(unacked)} never acked` : '',
    undelivered > 0 ? `${int(undelivered)} acked but never delivered live` : '',
    duplicates > 0 ? `${int(duplicates)} duplicate deliveries` : '',
    droppedCount > 0 ? `${int(droppedCount)} sockets dropped (${counts(dropped)})` : '',
  ]
    .filter(Boolean)
    .join('; ')
  const pairsUsed = sum((r) => r.pairs)
  log(
    `    sent ${int(sent)} over ${pairsUsed} pairs (${int(sentRate)}/s, client schedule lag max ` +
      `${ms(Math.max(...results.map((r) => r.maxLagMs)))})`,
  )
  log(
    `    persisted (ack ok) ${int(ackOk)} → ${int(persisted)}/s; delivered live ${int(received)} → ${int(delivered)}/s; ` +
      `last ok ack ${seconds(lastAck - lastSend)} after last send`,
  )
  log(
    `    send→receive p50 ${ms(percentile(recv, 50))} p99 ${ms(percentile(recv, 99))} max ${ms(percentile(recv, 100))}; ` +
      `send→ack p50 ${ms(percentile(acks, 50))} p99 ${ms(percentile(acks, 99))} max ${ms(percentile(acks, 100))}`,
  )
  log(`    errors: ${errorText || 'none'}`)
  if (settings.receipts) {
    log(
      `    delivery receipts (one in flight per receiver, later ones coalesced): ${int(receiptsSent)} sent, ` +
        `${int(receiptsOk)} ok (${int(perSecond(receiptsOk, lastRecv - first))}/s); ack p50 ${ms(percentile(receiptAcks, 50))} ` +
        `p99 ${ms(percentile(receiptAcks, 99))}; errors: ${Object.keys(receiptErrors).length > 0 ? counts(receiptErrors) : 'none'}`,
    )
  }
  if (backlog > 0) {
    log(
      `    relay still had ${int(backlog)} sends queued when the clients stopped waiting; ` +
        `${drained.settled ? `finished them ${seconds(drainMs)} later` : `not done after ${seconds(drainMs)}`}`,
    )
  }
  log(`    ${relayUse(s0, s1)}; load workers CPU ${workerCpu}; ${cpuPerMessage(s0, s1, ackOk)}`)
  // Over capacity the relay sheds load with rate_limited, and the client would resend: that is
  // a figure to report, not a failure. Anything else lost, doubled or refused is.
  const shed = errors.rate_limited ?? 0
  const otherErrors = [...Object.keys(errors), ...Object.keys(receiptErrors)].some(
    (code) => code !== 'rate_limited',
  )
  const broken = otherErrors || unacked > 0 || undelivered > 0 || duplicates > 0 || droppedCount > 0
  if (strict && (broken || ackOk + shed < sent || received < ackOk)) {
    failures.push(`messages @${rate}/s: ${errorText || 'not every message was acked and delivered'}`)
  }
  return {
    persisted,
    line:
      `persisted ${int(persisted)}/s (${cpuPerMessage(s0, s1, ackOk)}), delivered ${int(delivered)}/s, send→receive p50 ${ms(percentile(recv, 50))} ` +
      `p99 ${ms(percentile(recv, 99))}; ack p50 ${ms(percentile(acks, 50))} p99 ${ms(percentile(acks, 99))}` +
      (settings.receipts ? `; ${int(perSecond(receiptsOk, lastRecv - first))} receipts/s` : '') +
      (errorText ? ` [${errorText}]` : ''),
  }
}

/** Sync of messages missed while offline. */
async function missedMessagesPhase(bench: Bench, syncPeer: SeededUser, syncUser: SeededUser) {
  log()
  await bench.settle()
  log(
    `[3] sync: ${int(settings.syncMessages)} messages to an offline user (${BACKFILL_IN_FLIGHT} sends in flight)`,
  )
  const syncResult = await measureSync(bench.url, syncPeer, syncUser, bench.stats, bench.profiled)
  summary.set(
    'sync',
    `  sync ${int(settings.syncMessages)} missed messages: socket ${int(syncResult.overSocket.ms)} ms ` +
      `(${int(perSecond(syncResult.overSocket.events, syncResult.overSocket.ms))} events/s); GET /sync ` +
      `${int(syncResult.httpCold.ms)} ms first time, ${int(syncResult.httpWarm.ms)} ms again ` +
      `(${int(perSecond(syncResult.httpWarm.events, syncResult.httpWarm.ms))} events/s); ` +
      `written at ${int(syncResult.backfillRate)} msgs/s`,
  )
}

/** The idle sockets all go at once (a network blip or a proxy restart looks like this). */
async function disconnectStormPhase({ workers, stats, settle, profiled, drops }: Bench, connected: number) {
  log()
  log(`[4] disconnect storm: the ${int(connected)} idle sockets close at once`)
  const droppedBefore = await drops()
  if (Object.keys(droppedBefore).length > 0) log(`    (dropped earlier: ${counts(droppedBefore)})`)
  const s0 = await stats({ reset: true })
  const started = performance.now()
  const closed = (await Promise.all(workers.map((w) => w.call('closeIdle', undefined, IPC_MS)))).reduce(
    (a, b) => a + b,
    0,
  )
  const gone = await profiled(() => settle(s0.sockets - closed))
  const disconnectMs = performance.now() - started
  const updates = gone.stats.publishDone - s0.publishDone
  log(
    `    ${int(closed)} sockets closed; relay ${gone.settled ? 'settled' : 'NOT settled'} in ${seconds(disconnectMs)} ` +
      `(${int(updates)} presence updates, each writing last_seen_at: ${int(perSecond(updates, disconnectMs))}/s; ` +
      `${gone.stats.publishFailed - s0.publishFailed} failed)`,
  )
  log(`    ${relayUse(s0, gone.stats)}`)
  summary.set(
    'disconnect',
    `  disconnect storm, ${int(closed)} sockets: relay settled in ${seconds(disconnectMs)}` +
      (gone.settled ? '' : ' (timed out)'),
  )
  if (!gone.settled) failures.push('the relay did not settle after the idle sockets disconnected')
}

/** The idle users all come back at once and catch up, as after a network blip or a relay restart. */
async function reconnectStormPhase({ workers, url, stats, settle, profiled, drops }: Bench, closed: number) {
  if (closed === 0) return
  log()
  log(`[4b] reconnect storm: the ${int(closed)} idle users reconnect at once and catch up on their feeds`)
  await settle()
  const s0 = await stats({ reset: true })
  const started = performance.now()
  const results = await profiled(() =>
    Promise.all(
      workers.map((w) =>
        w.call(
          'reconnectIdle',
          { url, concurrency: Math.ceil(closed / workers.length), deadlineMs: IDLE_CONNECT_DEADLINE_MS },
          IDLE_CONNECT_DEADLINE_MS + 60_000,
        ),
      ),
    ),
  )
  const allBackMs = performance.now() - started
  const s1 = await stats()
  const back = results.reduce((n, r) => n + r.caughtUp.length, 0)
  const events = results.reduce((n, r) => n + r.events, 0)
  const errors: Record<string, number> = {}
  for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
  const times = sorted(...results.map((r) => r.caughtUp))
  const dropped = await drops()
  log(
    `    ${int(back)} of ${int(closed)} back and caught up (${int(events)} feed events) in ${seconds(allBackMs)}; ` +
      `caught up p50 ${ms(percentile(times, 50))} p99 ${ms(percentile(times, 99))}; errors: ${counts(errors)}` +
      (Object.keys(dropped).length > 0 ? `; dropped: ${counts(dropped)}` : ''),
  )
  log(`    longest event-loop stall ${ms(s1.loop.maxMs)}; ${relayUse(s0, s1)}`)
  summary.set(
    'reconnect',
    `  reconnect storm, ${int(closed)} users: all caught up in ${seconds(allBackMs)} ` +
      `(p99 ${ms(percentile(times, 99))}); longest event-loop stall ${ms(s1.loop.maxMs)}`,
  )
  if (back < closed) failures.push(`reconnect storm: only ${back} of ${closed} users came back and caught up`)
  // The saturation steps run without idle sockets, as before this phase existed.
  const reclosed = (await Promise.all(workers.map((w) => w.call('closeIdle', undefined, IPC_MS)))).reduce(
    (a, b) => a + b,
    0,
  )
  await settle(s1.sockets - reclosed)
}

/**
 * The pinned variant: the relay (every thread of it) on CPU 0, the load workers and this process
 * on the others, so the relay's figures are those of one core it does not share.
 */
function pinProcesses(relay: Child<RelayApi>, workers: Child<WorkerApi>[]) {
  const cpus = CPUS
  if (cpus < 2) throw new Error('BENCH_PIN=1 needs at least 2 CPUs')
  const rest = cpus === 2 ? '1' : `1-${cpus - 1}`
  const pin = (pid: number | undefined, list: string) => {
    if (pid === undefined) throw new Error('a bench process has no pid')
    execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' })
  }
  pin(relay.process.pid, '0')
  for (const w of workers) pin(w.process.pid, rest)
  pin(process.pid, rest)
  log(`pinned: relay on CPU 0, load workers and the bench on CPU ${rest}`)
}

/** Open loop far above capacity, at each BENCH_SATURATION rate. */
async function saturationPhase(bench: Bench) {
  if (settings.saturation.length > 0) {
    log()
    log(`[2b] saturation: open loop above capacity (${settings.pairs} pairs, no idle sockets)`)
    const saturation: string[] = []
    for (const rate of settings.saturation) {
      const step = await messagePhase(bench, 'saturation', rate, settings.saturationSeconds, false)
      saturation.push(`@${rate}/s: ${step.line}`)
    }
    summary.set('saturation', `  saturation ${saturation.join('\n             ')}`)
  }
}

async function shutDown({ relays, workers, settle, closing }: Bench) {
  log()
  const remaining = (await Promise.all(workers.map((w) => w.call('closeAll', undefined, IPC_MS)))).reduce(
    (a, b) => a + b,
    0,
  )
  await settle(0)
  closing()
  const shutdowns = await Promise.all(relays.map((relay) => relay.call('close', undefined, 60_000)))
  log(
    `closed the last ${int(remaining)} sockets; relay shut down in ${shutdowns.map((s) => ms(s.ms)).join(', ')}`,
  )
  await Promise.all(relays.map((relay) => relay.stop(5000)))
  await Promise.all(workers.map((w) => w.call('exit', undefined, IPC_MS).then(() => w.stop(5000))))
}

async function measureSync(
  url: string,
  peer: { id: number; token: string },
  user: { id: number; token: string },
  stats: () => Promise<RelayStats>,
  profiled: <T>(fn: () => Promise<T>) => Promise<T>,
) {
  const n = settings.syncMessages
  const connect = (token: string) => connectSocket(url, token, clientSockets)

  // The peer writes n messages while the user is offline, as fast as acks allow.
  const sender = await connect(peer.token)
  const s0 = await stats()
  let next = 0
  let ok = 0
  const errors: Record<string, number> = {}
  const deadline = performance.now() + 120_000
  const started = performance.now()
  await profiled(() =>
    Promise.all(
      Array.from({ length: Math.min(BACKFILL_IN_FLIGHT, n) }, async () => {
        while (next < n && performance.now() < deadline) {
          const i = next++
          try {
            const ack = (await sender.timeout(ACK_TIMEOUT_MS).emitWithAck('message', {
              clientId: randomUUID(),
              recipientId: user.id,
              text: `${TEXT} #${i}`,
            })) as Ack
            if (ack.ok) ok++
            else errors[ack.error.code] = (errors[ack.error.code] ?? 0) + 1
          } catch {
            errors['ack timeout'] = (errors['ack timeout'] ?? 0) + 1
          }
        }
      }),
    ),
  )
  const backfillMs = performance.now() - started
  const backfillRate = perSecond(ok, backfillMs)
  log(
    `    written: ${int(ok)} acked in ${seconds(backfillMs)} (${int(backfillRate)} msgs/s closed loop); errors: ${counts(errors)}`,
  )
  log(`    ${relayUse(s0, await stats())}`)
  sender.close()
  if (ok !== n) failures.push(`sync: only ${ok} of ${n} messages were written`)

  const check = (label: string, events: SyncResponse['events']) => {
    const problems: string[] = []
    const messages = events.filter((e) => e.type === 'message')
    if (messages.length !== n) problems.push(`${messages.length} message events, expected ${n}`)
    if (events.length !== messages.length) problems.push(`${events.length - messages.length} other events`)
    if (new Set(messages.map((e) => e.data.id)).size !== messages.length)
      problems.push('duplicate message ids')
    if (events.some((e, i) => e.seq !== i + 1)) problems.push('seqs are not 1..n in order')
    if (messages.some((e) => e.data.senderId !== peer.id || e.data.recipientId !== user.id))
      problems.push('a message with the wrong sender or recipient')
    if (problems.length > 0) failures.push(`${label}: ${problems.join('; ')}`)
    return problems.length === 0 ? 'all present, in order' : problems.join('; ')
  }
  const maxPages = Math.ceil(n / MAX_SYNC_PAGE) + 5

  /** Pulls the whole feed page by page; every page timed, the whole bounded in pages. */
  const pull = async (label: string, page: (after: number) => Promise<SyncResponse>) => {
    let events: SyncResponse['events'] = []
    const pageMs: number[] = []
    let cursor = 0
    const started = performance.now()
    await profiled(async () => {
      for (let more = true; more && pageMs.length < maxPages; ) {
        const t0 = performance.now()
        const body = await page(cursor)
        pageMs.push(performance.now() - t0)
        events = events.concat(body.events)
        cursor = body.cursor
        more = body.hasMore
      }
    })
    const totalMs = performance.now() - started
    const sortedPages = Float64Array.from(pageMs).sort()
    log(
      `    ${label}: ${int(events.length)} events in ${pageMs.length} pages of ≤${MAX_SYNC_PAGE}: ${int(totalMs)} ms ` +
        `(${int(perSecond(events.length, totalMs))} events/s; page first ${ms(pageMs[0] ?? Number.NaN)}, ` +
        `median ${ms(percentile(sortedPages, 50))}, max ${ms(percentile(sortedPages, 100))}); ${check(label, events)}`,
    )
    return { ms: totalMs, events: events.length }
  }

  // Over the socket, as the desktop app catches up after reconnecting.
  const socket = await connect(user.token)
  const overSocket = await pull('socket sync', async (after) => {
    const ack = (await socket
      .timeout(30_000)
      .emitWithAck('sync', { after, limit: MAX_SYNC_PAGE })) as Ack<SyncResponse>
    if (!ack.ok) throw new Error(`sync over the socket failed: ${ack.error.code} ${ack.error.message}`)
    return ack
  })
  socket.close()

  // Over HTTP: the first GET /sync of this relay, then again.
  const get = async (after: number) => {
    const response = await fetch(`${url}/sync?after=${after}&limit=${MAX_SYNC_PAGE}`, {
      headers: { authorization: `Bearer ${user.token}` },
      signal: AbortSignal.timeout(30_000),
    })
    if (response.status !== 200) throw new Error(`GET /sync: ${response.status} ${await response.text()}`)
    return (await response.json()) as SyncResponse
  }
  const httpCold = await pull('GET /sync, first time', get)
  const httpWarm = await pull('GET /sync, again', get)
  return { overSocket, httpCold, httpWarm, backfillRate }
}

let finished = false
/** Prints the summary and any failures, drops a temp database, then exits (the exit handler cleans up). */
async function finish(): Promise<never> {
  if (!finished) {
    finished = true
    log()
    for (const key of SUMMARY_ORDER) if (summary.has(key)) log(summary.get(key))
    log(`  (load average at the end: ${loadavg()[0]!.toFixed(2)} on ${CPUS} cores)`)
    if (failures.length > 0) {
      console.error(`\nbench FAILED:\n  ${failures.join('\n  ')}`)
      process.exitCode = 1
    }
    if (tempDatabase) {
      for (const child of children) child.kill()
      await sleep(200)
      await tempDatabase.drop()
    }
  }
  process.exit()
}

main()
  .catch((error) => {
    failures.push(error instanceof Error ? (error.stack ?? error.message) : String(error))
  })
  .finally(finish)

/** Several relays' stats as one: use and counts add up; the worst delay and transaction stand for all. */
function addUp(each: Awaited<ReturnType<RelayApi['stats']>>[]): Awaited<ReturnType<RelayApi['stats']>> {
  const [first, ...rest] = each
  if (!first) throw new Error('no relay')
  const sum = { ...first, loop: { ...first.loop } }
  const added = [
    'rss',
    'heapUsed',
    'external',
    'cpuMicros',
    'sockets',
    'engineClients',
    'publishInflight',
    'publishDone',
    'publishFailed',
    'committerInflight',
    'committerOps',
    'transactions',
    'transactionMs',
  ] as const
  for (const s of rest) {
    for (const key of added) sum[key] += s[key]
    sum.at = Math.max(sum.at, s.at)
    sum.longestTransactionMs = Math.max(sum.longestTransactionMs, s.longestTransactionMs)
    sum.loop = {
      p50Ms: Math.max(sum.loop.p50Ms, s.loop.p50Ms),
      p99Ms: Math.max(sum.loop.p99Ms, s.loop.p99Ms),
      maxMs: Math.max(sum.loop.maxMs, s.loop.maxMs),
      gcMaxMs: Math.max(sum.loop.gcMaxMs, s.loop.gcMaxMs),
      gcTotalMs: sum.loop.gcTotalMs + s.loop.gcTotalMs,
    }
  }
  return sum
}

const CLOCK_TICKS_PER_SECOND = 100

/**
 * CPU time (µs) of the PostgreSQL server processes serving `database`, by pid, from /proc (Linux;
 * empty elsewhere). A backend's title names its database; one that exits takes its time with it.
 */
function postgresCpu(database: string): Map<number, number> {
  const cpu = new Map<number, number>()
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return cpu
  }
  for (const pid of pids) {
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (!title.startsWith('postgres: ') || !title.includes(` ${database} `)) continue
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      const ticks = Number(fields[11]) + Number(fields[12])
      cpu.set(Number(pid), (ticks / CLOCK_TICKS_PER_SECOND) * 1e6)
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return cpu
}
