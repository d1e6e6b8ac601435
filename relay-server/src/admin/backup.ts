import { chmod, cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import SQLite from 'better-sqlite3'
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../data-dir'
import { blobKey } from '../services/images'
import { RELAY_VERSION } from '../version'

/**
 * A backup is a folder: `relay.sqlite` (a consistent copy taken with SQLite's online backup API
 * while the relay runs), `images/` (the pictures, as the relay stores them) and `manifest.json`.
 * A folder rather than an archive: the database copy can be opened as it is, `backup check` reads
 * it in place, and `tar` or any backup tool can pack it afterwards.
 */
export const BACKUP_DATABASE = 'relay.sqlite'
export const BACKUP_IMAGES = 'images'
export const BACKUP_MANIFEST = 'manifest.json'

export class BackupError extends Error {}

export interface BackupCounts {
  users: number
  sessions: number
  contacts: number
  messages: number
  images: number
  feedEvents: number
}

export interface BackupReport {
  databaseBytes: number
  imageFiles: number
  counts: BackupCounts
}

const COUNTED: [keyof BackupCounts, string][] = [
  ['users', 'users'],
  ['sessions', 'sessions'],
  ['contacts', 'contacts'],
  ['messages', 'messages'],
  ['images', 'images'],
  ['feedEvents', 'feed_events'],
]

function countRows(db: SQLite.Database): BackupCounts {
  const counts = {} as BackupCounts
  for (const [key, table] of COUNTED) {
    counts[key] = (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n
  }
  return counts
}

async function isMissingOrEmpty(folder: string): Promise<boolean> {
  try {
    return (await readdir(folder)).length === 0
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw error
  }
}

/** Copies the relay's SQLite database and pictures from `dataDir` into the new folder `target`. */
export async function takeSqliteBackup(dataDir: string, target: string, now: number): Promise<BackupReport> {
  if (!(await isMissingOrEmpty(target))) {
    throw new BackupError(`${target} exists and is not empty; name a new folder for the backup`)
  }
  await mkdir(target, { recursive: true, mode: PRIVATE_DIR_MODE })
  await chmod(target, PRIVATE_DIR_MODE)
  const databaseFile = path.join(target, BACKUP_DATABASE)
  const source = new SQLite(path.join(dataDir, 'relay.sqlite'), { fileMustExist: true })
  let counts: BackupCounts
  try {
    source.pragma('busy_timeout = 5000')
    // Page by page, yielding between steps: the relay keeps writing meanwhile, and the copy is
    // of one moment (the API restarts the copy if another connection changes the database).
    await source.backup(databaseFile)
  } finally {
    source.close()
  }
  await chmod(databaseFile, PRIVATE_FILE_MODE)
  // A single file, like any SQLite database at rest: the copy leaves WAL mode (no -wal, -shm).
  const copy = new SQLite(databaseFile)
  try {
    copy.pragma('journal_mode = DELETE')
    counts = countRows(copy)
  } finally {
    copy.close()
  }
  // After the database: every picture its rows name was stored before the copy was taken, and
  // pictures are immutable (written to a temporary name, then renamed), so copying them now is safe.
  const images = path.join(dataDir, 'images')
  let imageFiles = 0
  if (!(await isMissingOrEmpty(images))) {
    await cp(images, path.join(target, BACKUP_IMAGES), {
      recursive: true,
      filter: (file) => {
        if (file.endsWith('.partial')) return false
        if (/[0-9a-f]{64}(\.[a-z]+)?$/.test(file)) imageFiles += 1
        return true
      },
    })
  }
  const report: BackupReport = { databaseBytes: (await stat(databaseFile)).size, imageFiles, counts }
  await writeFile(
    path.join(target, BACKUP_MANIFEST),
    `${JSON.stringify({ createdAt: new Date(now).toISOString(), relayVersion: RELAY_VERSION, dialect: 'sqlite', ...report }, null, 2)}\n`,
    { mode: PRIVATE_FILE_MODE },
  )
  return report
}

export interface CheckReport extends BackupReport {
  integrity: string[]
  foreignKeyProblems: number
  /** Pictures the database names whose original file is not in the backup. */
  missingImages: string[]
  latestMigration: string | null
}

/** Opens a backup folder read-only and checks the database (integrity_check) and its pictures. */
export async function checkSqliteBackup(target: string): Promise<CheckReport> {
  const databaseFile = path.join(target, BACKUP_DATABASE)
  let db: SQLite.Database
  try {
    db = new SQLite(databaseFile, { readonly: true, fileMustExist: true })
  } catch (error) {
    throw new BackupError(`${databaseFile} cannot be opened: ${(error as Error).message}`)
  }
  try {
    let integrity: string[]
    let foreignKeyProblems: number
    let counts: BackupCounts
    let latest: { name: string } | undefined
    let imageIds: string[]
    try {
      integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map(
        (r) => r.integrity_check,
      )
      foreignKeyProblems = (db.pragma('foreign_key_check') as unknown[]).length
      counts = countRows(db)
      latest = db.prepare('select name from kysely_migration order by name desc limit 1').get() as
        | { name: string }
        | undefined
      imageIds = (db.prepare('select id from images').all() as { id: string }[]).map((r) => r.id)
    } catch (error) {
      // Not a database at all ("file is not a database"), or damaged beyond reading.
      return failed((error as Error).message)
    }
    const missingImages: string[] = []
    for (const id of imageIds) {
      const key = blobKey(id, 'original')
      try {
        await stat(path.join(target, BACKUP_IMAGES, key.slice(0, 2), key))
      } catch {
        missingImages.push(id)
      }
    }
    let imageFiles = 0
    try {
      for (const entry of await readdir(path.join(target, BACKUP_IMAGES), { recursive: true })) {
        if (/[0-9a-f]{64}(\.[a-z]+)?$/.test(String(entry))) imageFiles += 1
      }
    } catch {
      // No images folder: a relay that never stored a picture.
    }
    return {
      integrity,
      foreignKeyProblems,
      counts,
      missingImages,
      imageFiles,
      databaseBytes: (await stat(databaseFile)).size,
      latestMigration: latest?.name ?? null,
    }
  } finally {
    db.close()
  }

  function failed(reason: string): CheckReport {
    return {
      integrity: [reason],
      foreignKeyProblems: 0,
      counts: { users: 0, sessions: 0, contacts: 0, messages: 0, images: 0, feedEvents: 0 },
      missingImages: [],
      imageFiles: 0,
      databaseBytes: 0,
      latestMigration: null,
    }
  }
}

/** Whether a check found nothing wrong. */
export const backupIsSound = (report: CheckReport) =>
  report.integrity.length === 1 &&
  report.integrity[0] === 'ok' &&
  report.foreignKeyProblems === 0 &&
  report.missingImages.length === 0
