import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestRelay } from './relay'

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'parley-relay.js')

export interface AdminRun {
  code: number
  stdout: string
  stderr: string
  /** The last line of stdout, where codes and passwords are printed alone. */
  last: string
}

/** `parley-relay admin ...` as an operator runs it: a separate process on the relay's settings. */
export function admin(relay: TestRelay, args: string[], stdin?: string): Promise<AdminRun> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: relay.config.dataDir,
    // The sources under test, even where a build sits in dist/ (test/build.test.ts covers that).
    PARLEY_RELAY_FROM_SOURCE: '1',
  }
  if (relay.config.databaseUrl) env.DATABASE_URL = relay.config.databaseUrl
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, 'admin', ...args], { env }, (error, stdout, stderr) => {
      const lines = stdout.trimEnd().split('\n')
      resolve({
        code: error ? Number(error.code ?? 1) : 0,
        stdout,
        stderr,
        last: lines[lines.length - 1] ?? '',
      })
    })
    child.stdin?.end(stdin ?? '')
  })
}

/** Each command is a Node process that loads TypeScript: a second or two on a busy machine. */
export const CLI_TEST_MS = 90_000
