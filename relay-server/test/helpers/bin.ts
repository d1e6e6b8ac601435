import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/parley-relay.js')

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

export interface RunningBin {
  child: ChildProcess
  /** performance.now() just before the process was spawned. */
  spawnedAt: number
  /** What it has written to stderr so far. */
  stderr(): string
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>
}

/**
 * `parley-relay` started as an operator does (its own process, settings from `env`, on 127.0.0.1
 * and a free port), once its `GET /health` answers. `track` gets the child at once, so a caller
 * can kill it whatever happens next.
 */
export async function startBin(
  env: NodeJS.ProcessEnv,
  track: (child: ChildProcess) => void = () => {},
): Promise<RunningBin> {
  const port = await freePort()
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, [BIN], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  track(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  for (;;) {
    if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}: ${stderr}`)
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    await sleep(5)
  }
  return {
    child,
    spawnedAt,
    stderr: () => stderr,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}
