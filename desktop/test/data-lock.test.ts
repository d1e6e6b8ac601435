import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { DataDirInUseError } from '../src/core/data-lock'
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
