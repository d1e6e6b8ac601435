import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { accountFile, writeCurrentAccount } from '../src/core/accounts'
import { DataDirInUseError } from '../src/core/data-lock'
import { LocalDb } from '../src/core/db/local-db'
import { silentLogger } from '../src/core/logger'
import { CoreService } from '../src/core/service'

const dirs: string[] = []
const open: CoreService[] = []
afterEach(async () => {
  for (const core of open.splice(0)) await core.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-lock-'))
  dirs.push(dir)
  return dir
}

async function start(dir: string): Promise<CoreService> {
  const core = await CoreService.start({ dataDir: dir, logger: silentLogger })
  open.push(core)
  return core
}

describe('one core per data folder', () => {
  it('a second core on the same folder is refused until the first has closed', async () => {
    const dir = dataDir()
    const first = await start(dir)
    await expect(CoreService.start({ dataDir: dir, logger: silentLogger })).rejects.toBeInstanceOf(
      DataDirInUseError,
    )
    await first.close()
    expect(existsSync(path.join(dir, 'parley.lock'))).toBe(false)
    await start(dir)
  })

  it('a lock left by a process that is gone (a crash) is taken over', async () => {
    const dir = dataDir()
    const gone = spawnSync(process.execPath, ['-e', '']).pid
    writeFileSync(path.join(dir, 'parley.lock'), JSON.stringify({ pid: gone }))
    await start(dir)
  })

  it('a lock held by another running process is respected', async () => {
    const dir = dataDir()
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    try {
      writeFileSync(path.join(dir, 'parley.lock'), JSON.stringify({ pid: other.pid }))
      const refused = await CoreService.start({ dataDir: dir, logger: silentLogger }).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(DataDirInUseError)
      expect((refused as DataDirInUseError).pid).toBe(other.pid)
      expect((refused as Error).message).toContain('already running')
    } finally {
      other.kill()
    }
  })
})

describe('the data folder is private to its user', () => {
  const mode = (file: string) => statSync(file).mode & 0o777

  it('a core makes its folder 0700, an existing 0755 one included', async () => {
    const dir = dataDir()
    chmodSync(dir, 0o755)
    await start(dir)
    expect(mode(dir)).toBe(0o700)
    const fresh = path.join(dataDir(), 'new', 'parley')
    await start(fresh)
    expect(mode(fresh)).toBe(0o700)
  })

  it('account stores and the current-account pointer are created 0600', async () => {
    const dir = dataDir()
    const file = accountFile(dir, 'http://127.0.0.1:8080', 7)
    const db = await LocalDb.open(file)
    await db.close()
    expect(mode(file)).toBe(0o600)
    writeCurrentAccount(dir, { file, relayUrl: 'http://127.0.0.1:8080' })
    expect(mode(path.join(dir, 'current-account.json'))).toBe(0o600)
  })
})
