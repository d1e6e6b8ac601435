import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import type { ConversationKey } from '@parley/shared'
import { describe, expect, it } from 'vitest'
import { startCore, type TestCore, waitFor } from './helpers/core'
import { groupSuite, type Person, texts, timeline } from './helpers/group-people'
import { relayGroupTexts, secondDevice } from './helpers/relay-truth'

// A group message written by a core that is then killed (kill -9, as a crash or a power cut would)
// is sent exactly once: the outbox holds it across the crash and resends it with its client id,
// and the relay takes a resend of a client id it has as the same message.

const child = path.resolve(import.meta.dirname, 'helpers/core-child.ts')

const { relay, cleanup, trio } = groupSuite()

/** The sender's core in a process of its own, on the data folder its in-process core let go of. */
async function senderProcess(dataDir: string, key: ConversationKey, text: string) {
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', child, dataDir, key, text], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  cleanup.push(async () => void proc.kill('SIGKILL'))
  let output = ''
  const said = (word: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${word}" from the core:\n${output}`)), 20_000)
      const check = () => {
        if (!output.split('\n').includes(word)) return
        clearTimeout(timer)
        resolve()
      }
      proc.stdout!.on('data', check)
      check()
    })
  proc.stdout!.on('data', (chunk: Buffer) => (output += chunk))
  proc.stderr!.on('data', (chunk: Buffer) => (output += chunk))
  await said('online')
  return {
    send: async () => {
      proc.stdin!.write('send\n')
      await said('written')
    },
    kill: async () => {
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGKILL')
      await exited
    },
  }
}

/** How many times the relay has `text` in the group, as a member's second device reads it. */
async function onRelay(member: Person, key: ConversationKey, text: string): Promise<number> {
  const token = await secondDevice(relay().url, member.session)
  const texts = await relayGroupTexts(relay().url, token, Number(key.slice('group:'.length)))
  return texts.filter((t) => t === text).length
}

/** Alice's core, stopped, and her group with Bob and Carol. */
async function crashSetUp(): Promise<{ alice: Person; bob: Person; key: ConversationKey }> {
  const { alice, bob, carol } = await trio()
  const { key } = await alice.core.ok('groups.create', { title: 'Crash', memberIds: [bob.id, carol.id] })
  await waitFor(async () => (await bob.core.ok('conversations.list', {})).some((c) => c.key === key))
  await alice.core.stop()
  return { alice, bob, key }
}

async function relaunch(dataDir: string): Promise<TestCore> {
  const core = await startCore(dataDir)
  cleanup.push(() => core.stop())
  return core
}

describe('a group send across a crash of the sender', () => {
  it('killed after the relay had it but before the ack came back: resent, and there once', async () => {
    const { alice, bob, key } = await crashSetUp()
    const text = 'the ack never came'
    const sender = await senderProcess(alice.core.dataDir, key, text)
    alice.proxy.swallowReplies(true)
    await sender.send()
    await waitFor(async () => (await onRelay(bob, key, text)) === 1, 10_000, 'the relay has it')
    await sender.kill()
    alice.proxy.swallowReplies(false)

    const again = await relaunch(alice.core.dataDir)
    const mine = await waitFor(async () => {
      const found = (await again.ok('messages.page', { conversation: key, limit: 50 })).messages.find(
        (m) => m.text === text,
      )
      return found && found.id !== null && found.state !== 'pending' ? found : undefined
    }, 10_000)
    expect(mine.failure).toBeNull()
    await waitFor(async () => texts(await timeline(bob, key)).includes(text))
    expect(texts(await timeline(bob, key)).filter((t) => t === text)).toHaveLength(1)
    expect(
      (await again.ok('messages.page', { conversation: key, limit: 50 })).messages.filter(
        (m) => m.text === text,
      ),
    ).toHaveLength(1)
    expect(await onRelay(bob, key, text)).toBe(1)
  })

  it('killed before the message left the machine: it goes out on the next start, once', async () => {
    const { alice, bob, key } = await crashSetUp()
    const text = 'written just before the crash'
    const sender = await senderProcess(alice.core.dataDir, key, text)
    alice.proxy.goOffline()
    await sender.send()
    await sender.kill()
    expect(await onRelay(bob, key, text)).toBe(0)
    alice.proxy.goOnline()

    await relaunch(alice.core.dataDir)
    await waitFor(async () => texts(await timeline(bob, key)).includes(text), 10_000)
    expect(texts(await timeline(bob, key)).filter((t) => t === text)).toHaveLength(1)
    expect(await onRelay(bob, key, text)).toBe(1)
  })
})
