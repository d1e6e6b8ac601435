/**
 * Image bench: a relay in this process on loopback, one signed-in user, and 1 MB JPEG photos.
 * Prints upload latency one at a time, upload throughput with a few in flight, and how long a
 * thumbnail takes to fetch. Bounded in count and time; cleans up its data folder.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { buildApp } from '../relay-server/src/app'
import { loadConfig } from '../relay-server/src/config'
import { THUMB_SIZE } from '../relay-server/src/images/process'
import { int, ms, percentile, perSecond } from './bench/report'

const SEQUENTIAL = 40
const CONCURRENT = 120
const IN_FLIGHT = 4
const THUMB_FETCHES = 300
const DEADLINE_MS = 120_000

/** A photo-like JPEG of about 1 MB: noise compresses about as badly as a real photo. */
async function photo(seed: number): Promise<Buffer> {
  return sharp({
    create: {
      width: 1920,
      height: 1440,
      channels: 3,
      background: { r: (seed * 37) % 255, g: 90, b: 160 },
      noise: { type: 'gaussian', mean: 120 + (seed % 8), sigma: 28 },
    },
  })
    .jpeg({ quality: 80 })
    .toBuffer()
}

async function main() {
  const started = Date.now()
  const deadline = () => {
    if (Date.now() - started > DEADLINE_MS) throw new Error('image bench ran past its deadline')
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-images-'))
  const app = await buildApp(
    loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
    }),
  )
  try {
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    if (!address || typeof address === 'string') throw new Error('no port')
    const base = `http://127.0.0.1:${address.port}`
    const registered = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: 'benchphotographer',
        password: 'a long bench password',
        firstName: 'Bench',
        lastName: 'Photographer',
        email: 'bench@example.com',
      }),
    })
    const { token } = (await registered.json()) as { token: string }
    const photos = await Promise.all(Array.from({ length: 8 }, (_, i) => photo(i)))
    const averageBytes = photos.reduce((n, p) => n + p.length, 0) / photos.length

    const uploadOne = async (bytes: Buffer): Promise<{ ms: number; id: string }> => {
      const form = new FormData()
      form.append('file', new Blob([bytes], { type: 'image/jpeg' }), 'photo.jpg')
      const t0 = performance.now()
      const response = await fetch(`${base}/uploadimage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      })
      const body = (await response.json()) as { image?: { id: string } }
      if (response.status !== 201 || !body.image) throw new Error(`upload failed: ${response.status}`)
      return { ms: performance.now() - t0, id: body.image.id }
    }

    console.log(
      `image bench: JPEG photos of ${(averageBytes / 1024 / 1024).toFixed(2)} MB (1920×1440), node ${process.version}`,
    )
    const sequential = new Float64Array(SEQUENTIAL)
    let lastId = ''
    for (let i = 0; i < SEQUENTIAL; i++) {
      deadline()
      const result = await uploadOne(photos[i % photos.length]!)
      sequential[i] = result.ms
      lastId = result.id
    }
    sequential.sort()
    console.log(
      `  one at a time: ${SEQUENTIAL} uploads, p50 ${ms(percentile(sequential, 50))} p99 ${ms(percentile(sequential, 99))} ` +
        '(decode, re-encode, thumbnail, fsync, respond)',
    )

    let next = 0
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < CONCURRENT) {
          deadline()
          await uploadOne(photos[next++ % photos.length]!)
        }
      }),
    )
    const elapsed = performance.now() - t0
    console.log(
      `  ${IN_FLIGHT} in flight: ${CONCURRENT} uploads in ${(elapsed / 1000).toFixed(2)} s → ${perSecond(CONCURRENT, elapsed).toFixed(1)} uploads/s`,
    )

    // The thumbnail's own cost, apart from the upload around it: one 320 px WebP from the photo.
    const making = new Float64Array(20)
    for (let i = 0; i < making.length; i++) {
      const m0 = performance.now()
      await sharp(photos[i % photos.length]!)
        .resize({ width: THUMB_SIZE, height: THUMB_SIZE, fit: 'inside' })
        .webp({ quality: 80 })
        .toBuffer()
      making[i] = performance.now() - m0
    }
    making.sort()
    console.log(
      `  thumbnail generation alone: p50 ${ms(percentile(making, 50))} p99 ${ms(percentile(making, 99))}`,
    )

    const fetches = new Float64Array(THUMB_FETCHES)
    let thumbBytes = 0
    for (let i = 0; i < THUMB_FETCHES; i++) {
      const f0 = performance.now()
      const response = await fetch(`${base}/images/${lastId}?size=thumb`, {
        headers: { authorization: `Bearer ${token}` },
      })
      thumbBytes = (await response.arrayBuffer()).byteLength
      fetches[i] = performance.now() - f0
    }
    fetches.sort()
    console.log(
      `  thumbnail fetch (${int(thumbBytes)} bytes WebP): p50 ${ms(percentile(fetches, 50))} p99 ${ms(percentile(fetches, 99))} over ${THUMB_FETCHES}`,
    )
  } finally {
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
