import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Message } from '@parley/shared'
import { afterAll, describe, expect, it } from 'vitest'
import { befriend, connect, emit, http, registerUser } from './helpers/client'
import { createPostgresSchema, dialects } from './helpers/dialects'

const serverEntry = path.resolve(import.meta.dirname, '../src/server.ts')

/** The real server entry as a separate process, so it can be killed like a crashed machine. */
async function spawnRelay(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverEntry], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
      SOCKET_EVENTS_PER_SECOND: '1000000',
      SOCKET_EVENTS_PER_USER_PER_SECOND: '1000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output}`)), 20_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk
      const match = output.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk
    })
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}:\n${output}`)))
  })
  return { url, child, output: () => output }
}

describe.each(dialects)('durability (%s)', (dialect) => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
  })

  /** A fresh data folder, and on PostgreSQL a fresh schema, for one relay's lifetimes. */
  async function relayEnv(): Promise<Record<string, string>> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-durability-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    // Explicit on both counts: the child must not inherit CI's DATABASE_URL or REDIS_URL, or
    // the SQLite variant would quietly run on PostgreSQL.
    const env: Record<string, string> = { DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' }
    if (dialect === 'postgres') {
      const schema = await createPostgresSchema()
      cleanups.push(schema.drop)
      env.DATABASE_URL = schema.url
    }
    return env
  }

  it('every acked message survives kill -9 of the relay mid-burst', async () => {
    const env = await relayEnv()
    const first = await spawnRelay(env)
    cleanups.push(() => void first.child.kill('SIGKILL'))
    const ann = await registerUser(first.url)
    const ben = await registerUser(first.url)
    await befriend(ann, ben)
    const socket = await connect(first.url, ann.token)
    const acked: Message[] = []
    let sent = 0
    // Keep a steady stream going and pull the plug while it flows.
    const pump = (async () => {
      while (sent < 5000) {
        const batch = Array.from({ length: 20 }, () =>
          emit(
            socket,
            'message',
            { clientId: randomUUID(), recipientId: ben.user.id, text: `n${sent++}` },
            2000,
          )
            .then((ack) => {
              if (ack.ok) acked.push(ack.message)
            })
            .catch(() => undefined),
        )
        await Promise.all(batch)
        if (!socket.connected) return
      }
    })()
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 5))
    first.child.kill('SIGKILL')
    await pump
    socket.close()
    expect(acked.length).toBeGreaterThanOrEqual(200)

    const second = await spawnRelay(env)
    cleanups.push(() => void second.child.kill('SIGKILL'))
    const stored = new Set<number>()
    let before = ''
    for (;;) {
      const page = await http<{ messages: Message[]; hasMore: boolean }>(
        second.url,
        'GET',
        `/messages?with=${ann.user.id}&limit=200${before}`,
        { token: ben.token },
      )
      for (const m of page.body.messages) stored.add(m.id)
      if (!page.body.hasMore) break
      before = `&before=${page.body.messages.at(-1)!.id}`
    }
    const lost = acked.filter((m) => !stored.has(m.id))
    expect(lost).toEqual([])
    second.child.kill('SIGTERM')
  })

  it('a graceful stop finishes queued writes: every answered send is stored, none fails with 5xx', async () => {
    const env = await relayEnv()
    const relay = await spawnRelay(env)
    cleanups.push(() => void relay.child.kill('SIGKILL'))
    const ann = await registerUser(relay.url)
    const ben = await registerUser(relay.url)
    await befriend(ann, ben)
    const exited = new Promise<number | null>((resolve) => relay.child.once('exit', resolve))
    const sends = Array.from({ length: 100 }, (_, i) =>
      http(relay.url, 'POST', '/messages', {
        token: ann.token,
        body: { clientId: randomUUID(), recipientId: ben.user.id, text: `bye ${i}` },
      }).catch(() => ({ status: 0 })),
    )
    setTimeout(() => relay.child.kill('SIGTERM'), 5)
    const results = await Promise.all(sends)
    const code = await exited
    expect(code, relay.output()).toBe(0)
    expect(results.filter((r) => r.status >= 500 && r.status !== 503)).toEqual([])
    const created = results.filter((r) => r.status === 201).length

    const again = await spawnRelay(env)
    cleanups.push(() => void again.child.kill('SIGKILL'))
    const page = await http<{ messages: Message[] }>(
      again.url,
      'GET',
      `/messages?with=${ann.user.id}&limit=200`,
      {
        token: ben.token,
      },
    )
    expect(page.body.messages.length).toBe(created)
    again.child.kill('SIGTERM')
  })
})
