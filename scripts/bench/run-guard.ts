import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/**
 * What a bench holds and must let go of whatever way it ends (done, Ctrl-C, a watchdog): a
 * temporary folder, its child processes (relay, load workers) and the sockets it opened itself.
 * The watchdog ends a bench that hangs, so `npm run bench` always stops by itself.
 */
export function guardRun(options: { tempPrefix: string; watchdogMs: number }) {
  const tempDir = mkdtempSync(path.join(tmpdir(), options.tempPrefix))
  const children: Array<{ kill(): void }> = []
  const clientSockets: Array<{ close(): void }> = []
  process.on('exit', () => {
    for (const socket of clientSockets) socket.close()
    for (const child of children) child.kill()
    rmSync(tempDir, { recursive: true, force: true })
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, cleaning up`)
      process.exit(130)
    })
  }
  setTimeout(() => {
    console.error(`bench: still running after ${options.watchdogMs / 60_000} min; giving up`)
    process.exit(1)
  }, options.watchdogMs).unref()
  return { tempDir, children, clientSockets }
}
