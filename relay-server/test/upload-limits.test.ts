import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import type { AuthResponse } from '@parley/shared'
import sharp from 'sharp'
import { describe, expect } from 'vitest'
import { http, registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { makeImage, upload } from './helpers/images'
import { relayTests } from './helpers/relay'

/**
 * An upload that sends its headers and the start of its body, then waits: it holds its place
 * until `abort()` drops the connection.
 */
function stalledUpload(base: string, token: string): { abort: () => void; status: () => string } {
  const url = new URL(`${base}/uploadimage`)
  const boundary = 'parleyboundary'
  const req = request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': 1_000_000,
    },
  })
  const answered = new Promise<number | null>((resolve) => {
    req.on('response', (res) => {
      res.resume()
      resolve(res.statusCode ?? null)
    })
    req.on('error', () => resolve(null))
  })
  req.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  )
  let status = 'none'
  void answered.then((code) => {
    status = String(code)
  })
  return { abort: () => req.destroy(), status: () => status }
}

/** Random pixels: PNG cannot compress them, so the stored size is about width × height × 3. */
function noise(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer()
}

const withRelay = relayTests({ env: { UPLOAD_QUOTA_MB: '1' } })

describe.each(dialects)('upload limits (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('a user has at most two uploads in progress; a third is too_many_uploads, others are unaffected', {
    timeout: 60_000,
  }, async ({ relay }) => {
    const alice = await registerUser(relay.url)
    const bob = await registerUser(relay.url)
    const first = stalledUpload(relay.url, alice.token)
    const second = stalledUpload(relay.url, alice.token)
    const picture = await makeImage('png')
    const { images } = relay.app.services
    await expect.poll(() => images.uploadsInProgress(alice.user.id), { timeout: 30_000 }).toBe(2)
    const refused = await upload(relay.url, alice.token, picture)
    expect(refused.status).toBe(429)
    expect(refused.body.error?.code).toBe('too_many_uploads')
    expect([first.status(), second.status()]).toEqual(['none', 'none'])
    expect((await upload(relay.url, bob.token, picture)).status).toBe(201)

    // A dropped upload gives its place back.
    first.abort()
    await expect.poll(() => images.uploadsInProgress(alice.user.id), { timeout: 30_000 }).toBe(1)
    expect((await upload(relay.url, alice.token, picture)).status).toBe(201)
    second.abort()
  })

  it('uploads beyond UPLOAD_QUOTA_MB are quota_exceeded; the same picture again costs nothing', async ({
    relay,
  }) => {
    const alice = await registerUser(relay.url)
    // About 430 kB each once stored: two fit in 1 MB, a third does not.
    const pictures = await Promise.all([1, 2, 3].map(() => noise(380, 380)))
    const a = await upload(relay.url, alice.token, pictures[0]!)
    const b = await upload(relay.url, alice.token, pictures[1]!)
    expect([a.status, b.status]).toEqual([201, 201])
    const c = await upload(relay.url, alice.token, pictures[2]!)
    expect(c.status).toBe(413)
    expect(c.body.error?.code).toBe('quota_exceeded')
    expect((await upload(relay.url, alice.token, pictures[0]!)).status).toBe(201)
    // Another user has a quota of their own.
    const bob = await registerUser(relay.url)
    expect((await upload(relay.url, bob.token, pictures[2]!)).status).toBe(201)
  })

  it('a sign-in keeps a pool thread and is answered while several large uploads wait to be decoded', {
    timeout: 120_000,
  }, async ({ relay }) => {
    const signer = await registerUser(relay.url)
    const uploaders = await Promise.all([1, 2, 3, 4].map(() => registerUser(relay.url)))
    // 16 megapixels of one colour: a small file whose decoding and re-encoding is the full cost.
    const large = await makeImage('png', 4000, 4000, '#557799')
    const uploads = uploaders.flatMap((user) => [0, 1].map(() => upload(relay.url, user.token, large)))
    // All eight have arrived and sharp is at work on them.
    await expect
      .poll(
        () => {
          const load = relay.app.services.images.decodeLoad
          return load.running + load.waiting >= 8 && sharp.counters().process >= 1
        },
        { timeout: 60_000, interval: 5 },
      )
      .toBe(true)
    // sharp's own count of its tasks on libuv pool threads (the pool argon2 hashes on too).
    let mostInPool = 0
    const sample = setInterval(() => {
      mostInPool = Math.max(mostInPool, sharp.counters().process)
    }, 2)
    const login = await http<AuthResponse>(relay.url, 'POST', '/login', {
      body: { username: signer.user.username, password: signer.password },
    }).finally(() => clearInterval(sample))
    expect(login.status).toBe(200)
    // Answered before the uploads' turn came: some still wait to be decoded.
    expect(relay.app.services.images.decodeLoad.waiting).toBeGreaterThanOrEqual(1)
    // Decoding never took more than two of libuv's four pool threads (one image at a time, its
    // copy and thumbnail side by side), so the sign-in's hash had a thread without waiting for
    // decodes. Unbounded, all four are taken and about ten more tasks queue behind them.
    expect(mostInPool).toBeLessThanOrEqual(2)
    expect((await Promise.all(uploads)).map((r) => r.status)).toEqual(Array(8).fill(201))
  })
})
