/**
 * Relay start-up bench (`npm run bench:startup`): starts the relay the way an operator does
 * (`node relay-server/bin/parley-relay.js`, SQLite in a fresh temp folder) two ways, from the
 * TypeScript sources through tsx and from the build in relay-server/dist (built first), and
 * measures for each: time from spawn to the first good `GET /health`, and resident memory (RSS)
 * after it has idled a few seconds with no connection. Several runs each, medians reported.
 *
 * Knobs (environment): BENCH_STARTUP_RUNS (default 5), BENCH_STARTUP_IDLE_MS (default 3000).
 */
import { mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildRelay } from '../relay-server/build'
import { readInteger } from '../relay-server/src/config'
import { startBin } from '../relay-server/test/helpers/bin'
import { mb, ms } from './bench/report'
import { guardRun } from './bench/run-guard'

const RUNS = readInteger(process.env, 'BENCH_STARTUP_RUNS', 5, 1, 50)
const IDLE_MS = readInteger(process.env, 'BENCH_STARTUP_IDLE_MS', 3000, 500, 60_000)

const guard = guardRun({ tempPrefix: 'parley-bench-startup-', watchdogMs: 5 * 60_000 })

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))
  if (!line) throw new Error('no VmRSS')
  return Number(line.replace(/\D+/g, '')) * 1024
}

async function once(mode: 'source' | 'built', run: number): Promise<{ startMs: number; rss: number }> {
  const dataDir = path.join(guard.tempDir, `${mode}-${run}`)
  mkdirSync(dataDir)
  const relay = await startBin(
    { ...process.env, DATA_DIR: dataDir, PARLEY_RELAY_FROM_SOURCE: mode === 'source' ? '1' : '0' },
    (child) => guard.children.push(child),
  )
  const startMs = performance.now() - relay.spawnedAt
  await sleep(IDLE_MS)
  if (!relay.child.pid) throw new Error('no pid')
  const rss = rssBytes(relay.child.pid)
  await relay.stop()
  return { startMs, rss }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

const buildStarted = performance.now()
await buildRelay()
console.log(`relay start-up: built relay-server/dist in ${ms(performance.now() - buildStarted)}`)
console.log(
  `${RUNS} runs each, RSS after ${IDLE_MS / 1000} s idle with no connection, SQLite in a fresh folder`,
)
for (const mode of ['source', 'built'] as const) {
  const results = []
  for (let run = 0; run < RUNS; run++) results.push(await once(mode, run))
  const label = mode === 'source' ? 'TypeScript sources through tsx' : 'built JavaScript (dist/)'
  console.log(
    `  ${label}: start to first /health ${ms(median(results.map((r) => r.startMs)))} median ` +
      `(max ${ms(Math.max(...results.map((r) => r.startMs)))}); idle RSS ${mb(median(results.map((r) => r.rss)))} median`,
  )
}
process.exit(0)
