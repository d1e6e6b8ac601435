import { randomBytes, randomUUID } from 'node:crypto'
import sharp from 'sharp'
import { describe, expect } from 'vitest'
import { connect, emit, registerContacts, registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { downloadFile, pdfBytes, rawFileUpload, send, uploaded, uploadFile } from './helpers/files'
import { abortedUpload, makeImage, upload } from './helpers/images'
import { relayTests, storedUnder } from './helpers/relay'

/**
 * Bad uploads and bad richer-message payloads, beside the generic battery of malformed-input.test.ts
 * (which walks every route and top-level field from the schemas): files over the cap or the quota,
 * hostile names and declared types, and voice, forward and reply fields that do not go together.
 * The relay here takes files of at most 64 KiB and keeps 200 kB per user.
 */

const MAX_FILE = 64 * 1024
const withRelay = relayTests({ env: { MAX_FILE_BYTES: String(MAX_FILE), USER_QUOTA_BYTES: '200000' } })

const codeOf = (body: unknown) => (body as { error?: { code: string } }).error?.code

describe.each(dialects)('bad uploads and richer-message payloads (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('a file over MAX_FILE_BYTES is file_too_large: refused before reading when declared, cut off when not', async ({
    relay,
  }) => {
    const ann = await registerUser(relay.url)
    const before = storedUnder(relay, 'files')
    // Declared: only the part headers are sent, and the answer comes without waiting for the rest.
    const declared = await rawFileUpload(relay.url, ann.token, { size: 0, contentLength: 10 * 1024 * 1024 })
    expect({ status: declared.status, code: codeOf(declared.body) }).toEqual({
      status: 413,
      code: 'file_too_large',
    })
    // Chunked, no length: read up to the cap, then refused; nothing is kept.
    const chunked = await rawFileUpload(relay.url, ann.token, { size: MAX_FILE + 1 })
    expect({ status: chunked.status, code: codeOf(chunked.body) }).toEqual({
      status: 413,
      code: 'file_too_large',
    })
    expect(storedUnder(relay, 'files')).toEqual(before)
    const atTheCap = await rawFileUpload(relay.url, ann.token, { size: MAX_FILE })
    expect(atTheCap.status).toBe(201)
    expect(atTheCap.body.file.size).toBe(MAX_FILE)
  })

  it('files and pictures share USER_QUOTA_BYTES: past it, quota_exceeded; the same bytes again cost nothing', async ({
    relay,
  }) => {
    const ann = await registerUser(relay.url)
    const files = [1, 2, 3].map((n) => pdfBytes(60_000).fill(n, 100))
    for (const bytes of files) expect((await uploadFile(relay.url, ann.token, bytes)).status).toBe(201)
    const fourth = await uploadFile(relay.url, ann.token, pdfBytes(60_000).fill(4, 100))
    expect({ status: fourth.status, code: fourth.body.error?.code }).toEqual({
      status: 413,
      code: 'quota_exceeded',
    })
    expect((await uploadFile(relay.url, ann.token, files[0]!, { filename: 'again.pdf' })).status).toBe(201)
    // Random pixels do not compress: about 30 kB stored, more than the 20 kB left.
    const noise = await sharp(randomBytes(100 * 100 * 3), {
      raw: { width: 100, height: 100, channels: 3 },
    })
      .png()
      .toBuffer()
    const picture = await upload(relay.url, ann.token, noise)
    expect({ status: picture.status, code: picture.body.error?.code }).toEqual({
      status: 413,
      code: 'quota_exceeded',
    })
    // Someone else's quota is their own.
    const ben = await registerUser(relay.url)
    expect((await upload(relay.url, ben.token, await makeImage('png'))).status).toBe(201)
  })

  it('a name with paths, control characters, bidi overrides or quotes is stored safe and served safe', async ({
    relay,
  }) => {
    const ann = await registerUser(relay.url)
    const cases: [string, string][] = [
      ['../../etc/passwd', 'passwd'],
      ['C:\\Users\\ann\\evil.exe', 'evil.exe'],
      ['a\u0001b\u001b[2J\u007f.txt', 'ab[2J.txt'],
      ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
      ['say "hi" \'there\'.txt', 'say hi there.txt'],
      ['....', 'file'],
      ['   ', 'file'],
      ['.hidden', 'hidden'],
      ['x<y>z:w|q?*.txt', 'xyzwq.txt'],
      [`${'long'.repeat(100)}.pdf`, `${'long'.repeat(100).slice(0, 196)}.pdf`],
    ]
    for (const [given, kept] of cases) {
      const result = await rawFileUpload(relay.url, ann.token, { size: 10, filename: given })
      expect({ given, status: result.status, name: result.body.file?.name }).toEqual({
        given,
        status: 201,
        name: kept,
      })
      const got = await downloadFile(relay.url, ann.token, result.body.file.id)
      const disposition = got.headers.get('content-disposition') ?? ''
      expect(disposition).toMatch(
        /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!-]+$/,
      )
      expect(disposition).not.toMatch(/[/\\]|\.\./)
    }
    expect(storedUnder(relay, 'files').some((name) => /passwd|evil|\.exe/.test(name))).toBe(false)
  })

  it('a Content-Type lie is not believed: stored as application/octet-stream, and every file is served as one', async ({
    relay,
  }) => {
    const ann = await registerUser(relay.url)
    const png = await makeImage('png')
    const cases: [Buffer | string, string, string][] = [
      [pdfBytes(500), 'image/png', 'application/octet-stream'],
      ['<html><script>alert(1)</script></html>', 'image/svg+xml', 'application/octet-stream'],
      [pdfBytes(500), 'audio/ogg', 'application/octet-stream'],
      [pdfBytes(500), 'not a type', 'application/octet-stream'],
      [pdfBytes(500), 'application/pdf\r\nX-Evil: 1', 'application/octet-stream'],
      [png, 'IMAGE/PNG; charset=binary', 'image/png'],
      [pdfBytes(500), 'application/pdf', 'application/pdf'],
      ['<html></html>', 'text/html', 'text/html'],
    ]
    for (const [bytes, declared, kept] of cases) {
      const result = await uploadFile(relay.url, ann.token, bytes, { type: declared, filename: 'x' })
      expect({ declared, status: result.status, type: result.body.file?.type }).toEqual({
        declared,
        status: 201,
        type: kept,
      })
      const got = await downloadFile(relay.url, ann.token, result.body.file.id)
      expect(got.headers.get('content-type')).toBe('application/octet-stream')
      expect(got.headers.get('content-disposition')).toMatch(/^attachment;/)
      expect(got.headers.get('x-content-type-options')).toBe('nosniff')
      expect(got.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'")
    }
  })

  it('a voice message with a bad duration or waveform, or with a file or picture beside it, is validation_failed', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const recording = await uploaded(ann, pdfBytes(300), 'voice.ogg')
    const voice = (over: object) => ({ fileId: recording.id, durationMs: 2000, waveform: [1, 2, 3], ...over })
    const bad: [string, object][] = [
      ['duration 0', { voice: voice({ durationMs: 0 }) }],
      ['duration over 15 minutes', { voice: voice({ durationMs: 15 * 60 * 1000 + 1 }) }],
      ['duration 1.5', { voice: voice({ durationMs: 1.5 }) }],
      ['duration as text', { voice: voice({ durationMs: '2000' }) }],
      ['no waveform', { voice: { fileId: recording.id, durationMs: 2000 } }],
      ['an empty waveform', { voice: voice({ waveform: [] }) }],
      ['129 samples', { voice: voice({ waveform: new Array(129).fill(1) }) }],
      ['a sample of 256', { voice: voice({ waveform: [1, 256] }) }],
      ['a sample of -1', { voice: voice({ waveform: [-1] }) }],
      ['a sample of 1.5', { voice: voice({ waveform: [1.5] }) }],
      ['a waveform as text', { voice: voice({ waveform: 'AQID' }) }],
      ['an extra field', { voice: voice({ codec: 'opus' }) }],
      ['a file beside it', { voice: voice({}), fileId: recording.id }],
      ['a picture beside it', { voice: voice({}), imageId: 'f'.repeat(64) }],
    ]
    const socket = await connect(relay.url, ann.token)
    try {
      for (const [label, body] of bad) {
        const result = await send(ann, { recipientId: ben.user.id, ...body } as never)
        expect({ label, status: result.status, code: codeOf(result.body) }).toEqual({
          label,
          status: 400,
          code: 'validation_failed',
        })
        const ack = await emit(socket, 'message', {
          clientId: randomUUID(),
          recipientId: ben.user.id,
          ...body,
        } as never)
        expect({ label, ack }).toMatchObject({
          label,
          ack: { ok: false, error: { code: 'validation_failed' } },
        })
      }
    } finally {
      socket.close()
    }
    expect((await send(ann, { recipientId: ben.user.id, voice: voice({}) })).status).toBe(201)
  })

  it('forwardOf with content of its own, or a message with no content, is validation_failed naming the field', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const original = await send(ben, { recipientId: ann.user.id, text: 'pass it on' })
    const forwardOf = original.body.message.id
    const file = await uploaded(ann, pdfBytes(100))
    const cases: [object, RegExp][] = [
      [{ forwardOf, text: 'and my two cents' }, /text cannot be combined/],
      [{ forwardOf, fileId: file.id }, /fileId cannot be combined/],
      [{ forwardOf, imageId: 'f'.repeat(64) }, /imageId cannot be combined/],
      [{ forwardOf, voice: { fileId: file.id, durationMs: 10, waveform: [1] } }, /voice cannot be combined/],
      [{ replyToId: forwardOf }, /missing/],
      [{}, /missing/],
    ]
    for (const [body, message] of cases) {
      const result = await send(ann, { recipientId: ben.user.id, ...body } as never)
      expect(result.status).toBe(400)
      expect((result.body as never as { error: { message: string } }).error.message).toMatch(message)
    }
    expect((await send(ann, { recipientId: ben.user.id, forwardOf, replyToId: forwardOf })).status).toBe(201)
  })

  it('a cut-off upload leaves nothing behind', async ({ relay }) => {
    const ann = await registerUser(relay.url)
    const before = storedUnder(relay, 'files')
    await abortedUpload(relay.url, ann.token, 50_000, 20_000, '/files')
    await expect.poll(() => relay.app.services.images.uploadsInProgress(ann.user.id)).toBe(0)
    await expect.poll(() => storedUnder(relay, 'files')).toEqual(before)
    expect(
      await relay.app.db.selectFrom('files').select('id').where('owner_id', '=', ann.user.id).execute(),
    ).toEqual([])
  })
})
