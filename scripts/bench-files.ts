/**
 * File bench: the relay in its own process (so its CPU and memory are its own) on loopback, one
 * user, and one 100 MB upload through POST /files, streamed from here without holding it in memory.
 * Prints upload throughput, the relay's CPU seconds and the growth of its RSS while it took the file
 * (the relay streams to disk, so that growth must stay far below the file's size), then the time to
 * the first byte of a download of it, and the download's throughput.
 */
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import path from 'node:path'
import { Readable } from 'node:stream'
import { forkRelay } from './bench/relay-child'
import { mb, ms } from './bench/report'
import { guardRun } from './bench/run-guard'

const FILE_BYTES = Number(process.env.BENCH_FILE_BYTES ?? 100_000_000)
const CHUNK = 1024 * 1024
const SAMPLE_MS = 20
const IPC_MS = 60_000
/**
 * Buffers still held after a GC beyond this mean the relay kept the file (or a good part of it) in
 * memory. While it streams, garbage chunks pile up until V8 collects them (it waits for about 64 MB
 * of them), so the peak says less than what is left after a collection.
 */
const RETAINED_LIMIT = 16 * 1024 * 1024

const { tempDir, children } = guardRun({ tempPrefix: 'parley-bench-files-', watchdogMs: 5 * 60_000 })

/** FILE_BYTES of incompressible bytes, made chunk by chunk as they are sent. */
function body(): Readable {
  let left = FILE_BYTES
  return new Readable({
    read() {
      if (left === 0) return void this.push(null)
      const size = Math.min(CHUNK, left)
      left -= size
      this.push(randomBytes(size))
    },
  })
}

/** A multipart upload of the generated body; resolves with the status and the reply. */
function upload(url: string, token: string): Promise<{ status: number; text: string }> {
  const boundary = 'parleybenchboundary'
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  const target = new URL('/files', url)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + FILE_BYTES + tail.length,
        },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      },
    )
    req.on('error', reject)
    req.write(head)
    const source = body()
    source.on('end', () => req.end(tail))
    source.pipe(req, { end: false })
  })
}

async function main() {
  const relay = forkRelay(path.join(tempDir, 'data'))
  children.push(relay)
  const ready = await relay.waitFor<{ port: number; node: string }>('ready', 60_000)
  const url = `http://127.0.0.1:${ready.port}`
  const [user] = await relay.call('seedUsers', { count: 1 }, IPC_MS)
  if (!user) throw new Error('no user seeded')
  console.log(
    `file bench: one ${mb(FILE_BYTES)} upload on loopback, relay in its own process, node ${ready.node}`,
  )

  const before = await relay.call('stats', { gc: true }, IPC_MS)
  let peakRss = before.rss
  let peakExternal = before.external
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const now = await relay.call('stats', {}, IPC_MS)
      peakRss = Math.max(peakRss, now.rss)
      peakExternal = Math.max(peakExternal, now.external)
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS))
    }
  })()
  const t0 = performance.now()
  const result = await upload(url, user.token)
  const elapsed = performance.now() - t0
  sampling = false
  await sampler
  const after = await relay.call('stats', {}, IPC_MS)
  const collected = await relay.call('stats', { gc: true }, IPC_MS)
  if (result.status !== 201) throw new Error(`upload failed: ${result.status} ${result.text}`)
  const file = (JSON.parse(result.text) as { file: { id: string; size: number } }).file
  if (file.size !== FILE_BYTES) throw new Error(`stored ${file.size} bytes, not ${FILE_BYTES}`)
  const cpuSeconds = (after.cpuMicros - before.cpuMicros) / 1e6
  const growth = peakRss - before.rss
  console.log(
    `  upload: ${(elapsed / 1000).toFixed(2)} s → ${(FILE_BYTES / 1e6 / (elapsed / 1000)).toFixed(0)} MB/s ` +
      `(stream to disk, SHA-256, fsync, rename); relay CPU ${cpuSeconds.toFixed(2)} s`,
  )
  console.log(
    `  relay RSS: ${mb(before.rss)} before, peak ${mb(peakRss)} while taking the file (+${mb(growth)}, ` +
      `sampled every ${SAMPLE_MS} ms); Buffers ${mb(before.external)} before, peak ${mb(peakExternal)}, ` +
      `${mb(collected.external)} after a GC (chunks already written, not yet collected: nothing is kept)`,
  )

  const d0 = performance.now()
  const response = await fetch(`${url}/files/${file.id}`, {
    headers: { authorization: `Bearer ${user.token}` },
  })
  const reader = response.body!.getReader()
  const first = await reader.read()
  const ttfb = performance.now() - d0
  let received = first.value?.length ?? 0
  for (;;) {
    const next = await reader.read()
    if (next.done) break
    received += next.value.length
  }
  const downloadMs = performance.now() - d0
  if (response.status !== 200 || received !== FILE_BYTES) {
    throw new Error(`download: ${response.status}, ${received} bytes`)
  }
  const r0 = performance.now()
  const ranged = await fetch(`${url}/files/${file.id}`, {
    headers: {
      authorization: `Bearer ${user.token}`,
      range: `bytes=${FILE_BYTES / 2}-${FILE_BYTES / 2 + 65_535}`,
    },
  })
  await ranged.arrayBuffer()
  const rangeMs = performance.now() - r0
  console.log(
    `  download: first byte after ${ms(ttfb)}, all of it in ${(downloadMs / 1000).toFixed(2)} s → ` +
      `${(FILE_BYTES / 1e6 / (downloadMs / 1000)).toFixed(0)} MB/s; a 64 KiB range from the middle (seek) ${ms(rangeMs)}`,
  )
  await relay.call('close', undefined, IPC_MS)
  await relay.stop(5000)
  const retained = collected.external - before.external
  if (retained > RETAINED_LIMIT || growth > FILE_BYTES / 2) {
    console.error(
      `  FAIL: the relay held ${mb(retained)} after a GC (RSS +${mb(growth)}): it is not streaming`,
    )
    process.exitCode = 1
  }
}

main()
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
  .finally(() => process.exit())
