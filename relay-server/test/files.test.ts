import { createHash } from 'node:crypto'
import path from 'node:path'
import type { HealthResponse, Message } from '@parley/shared'
import { describe, expect } from 'vitest'
import { befriend, connect, http, nextEvent, registerContacts, registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { downloadFile, pdfBytes, send, uploaded, uploadFile } from './helpers/files'
import { relayTests, storedUnder } from './helpers/relay'

/** The start of an Ogg Opus recording (what file-type reads to call it audio), padded. */
function oggOpus(): Buffer {
  const bytes = Buffer.alloc(4000, 1)
  Buffer.from('OggS').copy(bytes, 0)
  bytes[4] = 0
  bytes[5] = 2
  Buffer.from('OpusHead').copy(bytes, 28)
  return bytes
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

let now = Date.now()
const withRelay = relayTests({ clock: () => now })

describe.each(dialects)('files (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('GET /health states the largest file and picture the relay takes', async ({ relay }) => {
    const health = await http<HealthResponse>(relay.url, 'GET', '/health')
    expect(health.body).toMatchObject({ maxFileBytes: 100 * 1024 * 1024, maxImageBytes: 10 * 1024 * 1024 })
  })

  it('an upload is stored by its content, and served back whole as a download that is never rendered', async ({
    relay,
  }) => {
    const ann = await registerUser(relay.url)
    const bytes = pdfBytes(70_000)
    const result = await uploadFile(relay.url, ann.token, bytes, { filename: 'Report März.pdf' })
    expect(result.status).toBe(201)
    expect(result.body.file).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9]{22}$/),
      name: 'Report März.pdf',
      size: 70_000,
      type: 'application/pdf',
    })
    expect(storedUnder(relay, 'files')).toContain(
      path.join(relay.config.dataDir, 'files', sha256(bytes).slice(0, 2), sha256(bytes)),
    )
    const got = await downloadFile(relay.url, ann.token, result.body.file.id)
    expect(got.status).toBe(200)
    expect(got.bytes.equals(bytes)).toBe(true)
    expect(Object.fromEntries(got.headers)).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="Report M_rz.pdf"; filename*=UTF-8''Report%20M%C3%A4rz.pdf`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
      'content-length': '70000',
      'accept-ranges': 'bytes',
      etag: `"${result.body.file.id}"`,
    })
    const again = await downloadFile(relay.url, ann.token, result.body.file.id, {
      'if-none-match': `"${result.body.file.id}"`,
    })
    expect(again.status).toBe(304)
  })

  it('the same bytes uploaded twice are two files stored once', async ({ relay }) => {
    const ann = await registerUser(relay.url)
    const bytes = pdfBytes(3000)
    const first = await uploaded(ann, bytes, 'a.pdf')
    const second = await uploaded(ann, bytes, 'b.pdf')
    expect(first.id).not.toBe(second.id)
    expect(storedUnder(relay, 'files').filter((f) => f.endsWith(sha256(bytes)))).toHaveLength(1)
  })

  it('serves byte ranges: from-to, open-ended and suffix; a range past the end is 416', async ({ relay }) => {
    const ann = await registerUser(relay.url)
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251))
    const file = await uploaded(ann, bytes, 'voice.bin')
    const part = async (range: string, extra: Record<string, string> = {}) =>
      downloadFile(relay.url, ann.token, file.id, { range, ...extra })

    const middle = await part('bytes=100-199')
    expect(middle.status).toBe(206)
    expect(middle.headers.get('content-range')).toBe('bytes 100-199/1000')
    expect(middle.headers.get('content-length')).toBe('100')
    expect(middle.bytes.equals(bytes.subarray(100, 200))).toBe(true)

    const tail = await part('bytes=990-')
    expect(tail.headers.get('content-range')).toBe('bytes 990-999/1000')
    expect(tail.bytes.equals(bytes.subarray(990))).toBe(true)
    const suffix = await part('bytes=-5')
    expect(suffix.bytes.equals(bytes.subarray(995))).toBe(true)
    const beyond = await part('bytes=900-5000')
    expect(beyond.headers.get('content-range')).toBe('bytes 900-999/1000')

    const outside = await part('bytes=1000-')
    expect(outside.status).toBe(416)
    expect(outside.headers.get('content-range')).toBe('bytes */1000')
    expect(JSON.parse(outside.bytes.toString()).error.code).toBe('range_not_satisfiable')

    // Several ranges, another unit, or an If-Range for other bytes: the whole file.
    for (const [range, extra] of [
      ['bytes=0-1,5-6', {}],
      ['items=0-1', {}],
      ['bytes=0-9', { 'if-range': '"someotherversion"' }],
    ] as const) {
      const whole = await part(range, extra)
      expect(whole.status, range).toBe(200)
      expect(whole.bytes.equals(bytes), range).toBe(true)
    }
  })

  it('a file sent in a message opens for both people until the message is deleted; never for others', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const stranger = await registerUser(relay.url)
    const file = await uploaded(ann, pdfBytes(5000), 'plan.pdf')
    expect((await downloadFile(relay.url, ben.token, file.id)).status).toBe(404)

    const benSocket = await connect(relay.url, ben.token)
    try {
      const arrived = nextEvent(benSocket, 'message')
      const sent = await send(ann, { recipientId: ben.user.id, fileId: file.id, text: 'the plan' })
      expect(sent.status).toBe(201)
      expect(sent.body.message).toMatchObject({ file, voice: null, text: 'the plan', forwarded: false })
      expect((await arrived).data.file).toEqual(file)

      expect((await downloadFile(relay.url, ben.token, file.id)).status).toBe(200)
      const refused = await downloadFile(relay.url, stranger.token, file.id)
      expect(refused.status).toBe(404)
      expect(JSON.parse(refused.bytes.toString()).error.code).toBe('file_not_found')

      await http(relay.url, 'DELETE', `/messages/${sent.body.message.id}`, { token: ann.token })
      expect((await downloadFile(relay.url, ben.token, file.id)).status).toBe(404)
      expect((await downloadFile(relay.url, ann.token, file.id)).status).toBe(200)
    } finally {
      benSocket.close()
    }
  })

  it('only your own uploads can be attached: file_not_found otherwise', async ({ relay }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const bens = await uploaded(ben, pdfBytes(100))
    for (const body of [
      { fileId: bens.id },
      { voice: { fileId: bens.id, durationMs: 1000, waveform: [1, 2, 3] } },
      { fileId: 'A'.repeat(22) },
    ]) {
      const result = await send(ann, { recipientId: ben.user.id, ...body })
      expect({
        status: result.status,
        code: (result.body as never as { error: { code: string } }).error.code,
      }).toEqual({ status: 404, code: 'file_not_found' })
    }
  })

  it('a voice message carries its recording, length and waveform to the recipient and on sync', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const ogg = oggOpus()
    const recording = (
      await uploadFile(relay.url, ann.token, ogg, { filename: 'voice.ogg', type: 'audio/ogg' })
    ).body.file
    expect(recording.type).toBe('audio/ogg')
    const waveform = Array.from({ length: 128 }, (_, i) => (i * 2) % 256)
    const sent = await send(ann, {
      recipientId: ben.user.id,
      voice: { fileId: recording.id, durationMs: 4200, waveform },
    })
    expect(sent.status).toBe(201)
    expect(sent.body.message).toMatchObject({
      file: null,
      voice: { file: recording, durationMs: 4200, waveform },
    })
    const page = await http<{ messages: Message[] }>(relay.url, 'GET', `/messages?with=${ann.user.id}`, {
      token: ben.token,
    })
    expect(page.body.messages[0]!.voice).toEqual({ file: recording, durationMs: 4200, waveform })
    const start = await downloadFile(relay.url, ben.token, recording.id, { range: 'bytes=0-3' })
    expect(start.bytes.toString()).toBe('OggS')
  })

  it('collects files no message carries after the grace period, bytes included, and keeps the rest', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const unusedBytes = pdfBytes(1111)
    const unused = await uploaded(ann, unusedBytes)
    const kept = await uploaded(ann, pdfBytes(1212))
    const retractedBytes = pdfBytes(1313)
    const retracted = await uploaded(ann, retractedBytes)
    await send(ann, { recipientId: ben.user.id, fileId: kept.id })
    const gone = await send(ann, { recipientId: ben.user.id, fileId: retracted.id })
    await http(relay.url, 'DELETE', `/messages/${gone.body.message.id}`, { token: ann.token })

    const { files } = relay.app.services
    expect(await files.collectGarbage()).toBe(0)
    now += 25 * 3600 * 1000
    expect(await files.collectGarbage()).toBeGreaterThanOrEqual(2)
    for (const id of [unused.id, retracted.id]) {
      expect((await downloadFile(relay.url, ann.token, id)).status).toBe(404)
    }
    expect((await downloadFile(relay.url, ben.token, kept.id)).status).toBe(200)
    const leftovers = storedUnder(relay, 'files').filter(
      (f) => f.endsWith(sha256(unusedBytes)) || f.endsWith(sha256(retractedBytes)),
    )
    expect(leftovers).toEqual([])
  })

  it('an erased account takes its files along, except one a contact forwarded, which stays theirs to open', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const cat = await registerUser(relay.url)
    await befriend(ben, cat)
    const privateBytes = pdfBytes(2222)
    const secret = await uploaded(ann, privateBytes, 'only-ann.pdf')
    const shared = await uploaded(ann, pdfBytes(2323), 'shared.pdf')
    const sent = await send(ann, { recipientId: ben.user.id, fileId: shared.id })
    const forward = await send(ben, { recipientId: cat.user.id, forwardOf: sent.body.message.id })
    expect(forward.body.message).toMatchObject({ file: shared, forwarded: true })

    const erased = await http(relay.url, 'DELETE', '/users/me', {
      token: ann.token,
      body: { password: ann.password },
    })
    expect(erased.status).toBe(204)
    expect(storedUnder(relay, 'files').filter((f) => f.endsWith(sha256(privateBytes)))).toEqual([])
    expect((await downloadFile(relay.url, ben.token, shared.id)).status).toBe(200)
    expect((await downloadFile(relay.url, cat.token, shared.id)).status).toBe(200)
    const rows = await relay.app.db.selectFrom('files').select('id').where('id', '=', secret.id).execute()
    expect(rows).toEqual([])
  })
})
