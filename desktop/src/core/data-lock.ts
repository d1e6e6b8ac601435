import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'

const LOCK = 'parley.lock'

/** Another running Parley (this process or another) has this data folder. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`Parley is already running with the data folder ${dataDir} (process ${pid}); close it first`)
    this.name = 'DataDirInUseError'
  }
}

/**
 * Takes the data folder for this core: two cores on one folder would run two sync engines and two
 * outboxes over the same store. The lock is a file holding the owner's process id, created
 * exclusively; one left by a process that is gone (a crash) is taken over. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  // The folder holds the whole history and the session token: only this user may enter it,
  // including a folder an older version made 0755.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  chmodSync(dataDir, 0o700)
  const file = path.join(dataDir, LOCK)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid }))
      } finally {
        closeSync(fd)
      }
      let released = false
      return () => {
        if (released) return
        released = true
        if (ownerOf(file) === process.pid) rmSync(file, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = ownerOf(file)
      if (owner !== null && isAlive(owner)) throw new DataDirInUseError(dataDir, owner)
      rmSync(file, { force: true })
    }
  }
  throw new Error(`Could not take the data folder ${dataDir}`)
}

function ownerOf(file: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid
    return Number.isSafeInteger(pid) && (pid as number) > 0 ? (pid as number) : null
  } catch {
    return null
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
