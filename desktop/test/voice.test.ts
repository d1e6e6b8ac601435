import { randomUUID } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { dmKey, type MessageView } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { befriend, type TestCore, waitFor } from './helpers/core'
import { startDevice } from './helpers/device'
import { startRelay, type TestRelay } from './helpers/relay'

// Voice messages through the desktop core, against a real relay: the recording is handed over as
// a file is, written at once as a pending voice message, uploaded by the outbox once online and
// sent once with its length and waveform; the other side stores it, downloads the same bytes,
// and keeps whether it was played across a restart.

let relay: TestRelay
const cleanup: (() => Promise<void>)[] = []

beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined)
  await relay.close()
})

const person = () => startDevice(relay, cleanup)

/** A short WAV recording (a 440 Hz tone), so the relay's sniffing agrees with `audio/wav`. */
function wav(ms: number): Buffer {
  const rate = 8000
  const samples = Math.round((rate * ms) / 1000)
  const buffer = Buffer.alloc(44 + samples * 2)
  buffer.write('RIFF', 0)
  buffer.writeUInt32LE(36 + samples * 2, 4)
  buffer.write('WAVEfmt ', 8)
  buffer.writeUInt32LE(16, 16)
  buffer.writeUInt16LE(1, 20)
  buffer.writeUInt16LE(1, 22)
  buffer.writeUInt32LE(rate, 24)
  buffer.writeUInt32LE(rate * 2, 28)
  buffer.writeUInt16LE(2, 32)
  buffer.writeUInt16LE(16, 34)
  buffer.write('data', 36)
  buffer.writeUInt32LE(samples * 2, 40)
  for (let i = 0; i < samples; i++)
    buffer.writeInt16LE(Math.round(8000 * Math.sin((i * 2 * Math.PI * 440) / rate)), 44 + i * 2)
  return buffer
}

async function stage(core: TestCore, bytes: Buffer): Promise<string> {
  const stageId = randomUUID()
  await core.ok('messages.stageFile', { stageId, offset: 0, dataBase64: bytes.toString('base64') })
  return stageId
}

const voices = async (core: TestCore, peerId: number) =>
  (await core.ok('messages.page', { conversation: dmKey(peerId), limit: 50 })).messages.filter(
    (m: MessageView) => m.voice !== null,
  )

describe('voice messages in the core', () => {
  it('written offline, a voice message goes once online, once, with its waveform and length; the other side stores and plays it', async () => {
    const [alice, bob] = [await person(), await person()]
    await befriend(alice.core, alice.session, bob.core, bob.session)
    const bytes = wav(1200)
    const waveform = Array.from({ length: 64 }, (_, i) => (i * 4) % 256)
    const stageId = await stage(alice.core, bytes)
    alice.proxy.goOffline()
    const clientId = randomUUID()
    const params = {
      conversation: dmKey(bob.id),
      stageId,
      type: 'audio/wav;codecs=1',
      durationMs: 1200,
      waveform,
      clientId,
    } as const
    const written = await alice.core.ok('messages.sendVoice', params)
    expect(written).toMatchObject({
      state: 'pending',
      file: null,
      text: null,
      voice: {
        durationMs: 1200,
        waveform,
        played: false,
        file: { local: true, type: 'audio/wav', size: bytes.length },
      },
    })
    // Handed over again (the window did not hear back): the same message, not a second one.
    expect((await alice.core.ok('messages.sendVoice', params)).localId).toBe(written.localId)

    alice.proxy.goOnline()
    const got = await waitFor(async () => (await voices(bob.core, alice.id))[0], 20_000)
    expect(got).toMatchObject({
      mine: false,
      file: null,
      voice: {
        durationMs: 1200,
        waveform,
        played: false,
        file: { local: false, type: 'audio/wav', name: 'Voice message.wav' },
      },
    })
    const fileId = got.voice!.file.id
    expect(await bob.core.ok('messages.downloadFile', { fileId })).toEqual({ size: bytes.length })
    const saved = await bob.core.ok('messages.readFile', { fileId, offset: 0 })
    expect(Buffer.from(saved.dataBase64, 'base64').equals(bytes)).toBe(true)

    // Sent once: the sender's copy is the relay's, with upload progress told, and the local copy went.
    const mine = await waitFor(async () => {
      const list = await voices(alice.core, bob.id)
      return list.length === 1 && list[0]!.state !== 'pending' ? list[0] : undefined
    })
    expect(mine).toMatchObject({ id: got.id, voice: { file: { id: got.voice!.file.id, local: false } } })
    const progress = alice.core.events('media.uploadProgress').filter((p) => p.localId === written.localId)
    expect(progress.at(-1)).toMatchObject({ sentBytes: bytes.length, totalBytes: bytes.length })
    await waitFor(
      () =>
        !readdirSync(alice.core.dataDir, { recursive: true })
          .map(String)
          .some((f) => f.endsWith(stageId)),
    )
    // A later event about it (a reaction) keeps it one message; the relay holds one voice message.
    await alice.core.ok('messages.react', { localId: mine!.localId, emoji: '👍' })
    await waitFor(async () => (await voices(bob.core, alice.id))[0]?.reactions.length === 1)
    expect(await voices(bob.core, alice.id)).toHaveLength(1)
    expect(await voices(alice.core, bob.id)).toHaveLength(1)

    // Played on bob's device: told to the windows, and kept across a restart.
    const played = await bob.core.ok('messages.markVoicePlayed', { localId: got.localId })
    expect(played.voice?.played).toBe(true)
    expect(
      bob.core.events('messages.changed').some((e) => JSON.stringify(e).includes(`"localId":${got.localId}`)),
    ).toBe(true)
    const again = await bob.core.restart()
    cleanup.push(() => again.dispose())
    const reread = await waitFor(async () => (await voices(again, alice.id))[0])
    expect(reread.voice?.played).toBe(true)
    // Only a voice message can be played.
    const text = await again.ok('messages.send', { conversation: dmKey(alice.id), text: 'hi' })
    const refused = await again.call('messages.markVoicePlayed', { localId: text.localId })
    expect(refused.ok || refused.error.code).toBe('not_found')
  }, 40_000)

  it('a forwarded voice message carries the same recording, length and waveform', async () => {
    const [alice, bob, carol] = [await person(), await person(), await person()]
    await befriend(alice.core, alice.session, bob.core, bob.session)
    await befriend(bob.core, bob.session, carol.core, carol.session)
    const bytes = wav(600)
    const waveform = [0, 128, 255]
    await alice.core.ok('messages.sendVoice', {
      conversation: dmKey(bob.id),
      stageId: await stage(alice.core, bytes),
      type: 'audio/wav',
      durationMs: 600,
      waveform,
    })
    const got = await waitFor(async () => (await voices(bob.core, alice.id))[0], 20_000)
    const [copy] = await bob.core.ok('messages.forward', { localId: got.localId, to: [dmKey(carol.id)] })
    expect(copy).toMatchObject({ forwarded: true, voice: { durationMs: 600, waveform } })
    const received = await waitFor(async () => (await voices(carol.core, bob.id))[0], 20_000)
    expect(received).toMatchObject({ forwarded: true, voice: { durationMs: 600, waveform, played: false } })
    const fileId = received.voice!.file.id
    expect(await carol.core.ok('messages.downloadFile', { fileId })).toEqual({ size: bytes.length })
    const saved = await carol.core.ok('messages.readFile', { fileId, offset: 0 })
    expect(Buffer.from(saved.dataBase64, 'base64').equals(bytes)).toBe(true)
  }, 40_000)
})
