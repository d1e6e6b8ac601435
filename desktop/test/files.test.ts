import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { dmKey, type MessageView } from '@parley/shared'
import { FILE_PIECE_BYTES } from '@parley/shared/limits'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { befriend, type TestCore, waitFor } from './helpers/core'
import { startDevice } from './helpers/device'
import { startRelay, type TestRelay } from './helpers/relay'

// Files of any type through the desktop core, against a real relay whose limit is small
// (MAX_FILE_BYTES = 10 MB): handed over in pieces, kept in the app's folder, uploaded by the outbox
// (offline first, then after the network comes back), shown and downloaded on the other side.

const MAX = 10_000_000
let relay: TestRelay
const cleanup: (() => Promise<void>)[] = []

beforeAll(async () => {
  relay = await startRelay({ env: { MAX_FILE_BYTES: String(MAX) } })
})
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined)
  await relay.close()
})

const person = () => startDevice(relay, cleanup)

/** Hands a file over in pieces, as the window does. */
async function stage(core: TestCore, bytes: Buffer): Promise<string> {
  const stageId = randomUUID()
  for (let offset = 0; offset < bytes.length; offset += FILE_PIECE_BYTES) {
    const piece = bytes.subarray(offset, offset + FILE_PIECE_BYTES)
    const { received } = await core.ok('messages.stageFile', {
      stageId,
      offset,
      dataBase64: piece.toString('base64'),
    })
    expect(received).toBe(offset + piece.length)
  }
  return stageId
}

describe('files in the core', () => {
  it('the relay states its limit; a file written offline goes once online; the other side downloads the same bytes', async () => {
    const [alice, bob] = [await person(), await person()]
    await befriend(alice.core, alice.session, bob.core, bob.session)
    expect(await alice.core.ok('messages.fileLimit', {})).toEqual({ maxFileBytes: MAX })

    const bytes = randomBytes(7_500_000)
    const stageId = await stage(alice.core, bytes)
    alice.proxy.goOffline()
    const written = await alice.core.ok('messages.sendFile', {
      conversation: dmKey(bob.id),
      stageId,
      name: 'report.pdf',
      type: 'application/pdf',
      text: 'The report',
    })
    expect(written).toMatchObject({
      state: 'pending',
      file: { name: 'report.pdf', size: 7_500_000, local: true },
    })
    // The bytes wait in the app's folder (they survive a quit).
    const outgoing = readdirSync(alice.core.dataDir, { recursive: true }).map(String)
    expect(outgoing.some((f) => f.endsWith(stageId))).toBe(true)

    alice.proxy.goOnline()
    const got = await waitFor(async () => {
      const page = await bob.core.ok('messages.page', { conversation: dmKey(alice.id), limit: 10 })
      return page.messages.find((m: MessageView) => m.file !== null)
    }, 20_000)
    expect(got).toMatchObject({
      text: 'The report',
      file: { name: 'report.pdf', size: 7_500_000, type: 'application/pdf', local: false },
    })
    const fileId = got.file?.id as string
    expect(await bob.core.ok('messages.downloadFile', { fileId })).toEqual({ size: 7_500_000 })
    const first = await bob.core.ok('messages.readFile', { fileId, offset: 0 })
    const rest = await bob.core.ok('messages.readFile', { fileId, offset: FILE_PIECE_BYTES })
    const saved = Buffer.concat([first, rest].map((p) => Buffer.from(p.dataBase64, 'base64')))
    expect(saved.equals(bytes)).toBe(true)
    // Progress was told, and the local copy went once uploaded.
    const progress = alice.core.events('media.uploadProgress').filter((p) => p.localId === written.localId)
    expect(progress.at(-1)).toMatchObject({ sentBytes: 7_500_000, totalBytes: 7_500_000 })
    await waitFor(
      () =>
        !readdirSync(alice.core.dataDir, { recursive: true })
          .map(String)
          .some((f) => f.endsWith(stageId)),
    )
  }, 40_000)

  it('over the relay’s limit is refused before anything is written', async () => {
    const alice = await person()
    const stageId = randomUUID()
    const first = await alice.core.ok('messages.stageFile', {
      stageId,
      offset: 0,
      dataBase64: randomBytes(FILE_PIECE_BYTES).toString('base64'),
    })
    expect(first.received).toBe(FILE_PIECE_BYTES)
    const second = await alice.core.call('messages.stageFile', {
      stageId,
      offset: FILE_PIECE_BYTES,
      dataBase64: randomBytes(FILE_PIECE_BYTES).toString('base64'),
    })
    expect(second.ok || second.error.code).toBe('file_too_large')
    // A piece out of order is refused, not written at the wrong place.
    const gap = await alice.core.call('messages.stageFile', { stageId, offset: 5, dataBase64: 'AAAA' })
    expect(gap.ok || gap.error.code).toBe('invalid_params')
    expect(existsSync(path.join(alice.core.dataDir))).toBe(true)
  })
})
