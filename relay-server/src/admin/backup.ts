import { chmod, cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import SQLite from 'better-sqlite3'
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../data-dir'
import { blobKey } from '../services/images'
import { RELAY_VERSION } from '../version'

/**
 * A backup is a folder: `relay.sqlite` (a consistent copy taken with SQLite's online backup API
 * while the relay runs), `images/` and `files/` (the pictures and files, as the relay stores them)
 * and `manifest.json`.
 * A folder rather than an archive: the database copy can be opened as it is, `backup check` reads
 * it in place, and `tar` or any backup tool can pack it afterwards.
 */
export const BACKUP_DATABASE = 'relay.sqlite'
export const BACKUP_IMAGES = 'images'
export const BACKUP_FILES = 'files'
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
  /** Stored file contents (one per SHA-256, however many uploads share it). */
  fileBlobs: number
  counts: BackupCounts
}

/** A blob's name: a SHA-256, and for pictures a variant suffix. */
const BLOB_NAME = /[0-9a-f]{64}(\.[a-z]+)?$/

/** Copies a blob folder of the relay (not its staged, unfinished writes); how many blobs. */
async function copyBlobs(from: string, to: string): Promise<number> {
  if (await isMissingOrEmpty(from)) return 0
  let copied = 0
  await cp(from, to, {
    recursive: true,
    filter: (file) => {
      if (file.endsWith('.partial') || path.basename(file) === '.staging') return false
      if (BLOB_NAME.test(file)) copied += 1
      return true
    },
  })
  return copied
}

/** Blobs in a backup's folder, counted. */
async function countBlobs(folder: string): Promise<number> {
  try {
    return (await readdir(folder, { recursive: true })).filter((entry) => BLOB_NAME.test(String(entry)))
      .length
  } catch {
    return 0 // no folder: a relay that never stored one
  }
}

/** Of these keys, those with no blob under `folder/ab/<key>`. */
async function missingBlobs(folder: string, keys: readonly string[]): Promise<string[]> {
  const missing: string[] = []
  for (const key of keys) {
    try {
      await stat(path.join(folder, key.slice(0, 2), key))
    } catch {
      missing.push(key)
    }
  }
  return missing
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
  // After the database: every picture and file its rows name was stored before the copy was taken,
  // and blobs are immutable (written to a temporary name, then renamed), so copying them now is safe.
  const imageFiles = await copyBlobs(path.join(dataDir, 'images'), path.join(target, BACKUP_IMAGES))
  const fileBlobs = await copyBlobs(path.join(dataDir, 'files'), path.join(target, BACKUP_FILES))
  const report: BackupReport = {
    databaseBytes: (await stat(databaseFile)).size,
    imageFiles,
    fileBlobs,
    counts,
  }
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
  /** Files the database names whose bytes are not in the backup (by file id). */
  missingFiles: string[]
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
    let fileBlobRows: { id: string; blob: string }[]
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
      // A backup of a relay from before files has no files table.
      const hasFiles = db.prepare("select 1 from sqlite_master where type = 'table' and name = 'files'").get()
      fileBlobRows = hasFiles ? (db.prepare('select id, blob from files').all() as typeof fileBlobRows) : []
    } catch (error) {
      // Not a database at all ("file is not a database"), or damaged beyond reading.
      return failed((error as Error).message)
    }
    const missingImages = (
      await missingBlobs(
        path.join(target, BACKUP_IMAGES),
        imageIds.map((id) => blobKey(id, 'original')),
      )
    ).map((key) => key.slice(0, 64))
    const absent = new Set(
      await missingBlobs(path.join(target, BACKUP_FILES), [...new Set(fileBlobRows.map((r) => r.blob))]),
    )
    const missingFiles = fileBlobRows.filter((r) => absent.has(r.blob)).map((r) => r.id)
    return {
      integrity,
      foreignKeyProblems,
      counts,
      missingImages,
      missingFiles,
      imageFiles: await countBlobs(path.join(target, BACKUP_IMAGES)),
      fileBlobs: await countBlobs(path.join(target, BACKUP_FILES)),
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
      missingFiles: [],
      imageFiles: 0,
      fileBlobs: 0,
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
  report.missingImages.length === 0 &&
  report.missingFiles.length === 0
