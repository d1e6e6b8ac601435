import { type ChildProcess, execFile } from 'node:child_process'
import { mkdtempSync, rmSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildRelay } from '../build'
import { BIN, startBin } from './helpers/bin'

const relayDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-build-'))
const children: ChildProcess[] = []

const start = () => startBin({ DATA_DIR: dataDir }, (child) => children.push(child))

describe('the relay built to JavaScript', () => {
  let files: string[] = []
  beforeAll(async () => {
    files = await buildRelay()
  }, 60_000)
  afterAll(() => {
    for (const child of children) child.kill()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('bundles the relay and the shared protocol, and leaves npm packages (sharp, pg) outside', async () => {
    const { readFileSync } = await import('node:fs')
    expect(files.map((file) => path.basename(file))).toEqual(
      expect.arrayContaining(['server.js', 'admin-cli.js']),
    )
    const code = files.map((file) => readFileSync(path.join(relayDir, file), 'utf8')).join('\n')
    expect(code).toContain('group_not_found') // from @parley/shared's error codes
    expect(code).not.toMatch(/from ['"]@parley\/shared/)
    expect(code).toMatch(/import\(['"]sharp['"]\)/) // loaded on the first picture, not at start
  })

  it('parley-relay runs the build: it serves, stops on SIGTERM, and says nothing about sources', {
    timeout: 60_000,
  }, async () => {
    const relay = await start()
    await relay.stop()
    expect(relay.stderr()).not.toContain('older than the sources')
  })

  it('parley-relay admin runs the built command line', { timeout: 60_000 }, async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [BIN, 'admin', 'stats'],
        { env: { PATH: process.env.PATH, DATA_DIR: dataDir } },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      ),
    )
    expect(out).toMatch(/^users\s+0/m)
  })

  it('a build older than the sources is not run: the sources are, with a note to build', {
    timeout: 90_000,
  }, async () => {
    const long_ago = new Date('2001-01-01T00:00:00Z')
    utimesSync(path.join(relayDir, 'dist', 'server.js'), long_ago, long_ago)
    const relay = await start()
    await relay.stop()
    expect(relay.stderr()).toContain('the build in dist/ is older than the sources')
  })
})
