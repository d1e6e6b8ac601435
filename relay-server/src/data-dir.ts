import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import path from 'node:path'

/** Folders only their owner may enter, files only their owner may read: other local users see nothing. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** chmod, except that a path owned by someone else (EPERM) is reported instead of thrown. */
function restrict(file: string, mode: number, notOurs: string[]): void {
  try {
    chmodSync(file, mode)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error
    notOurs.push(file)
  }
}

/**
 * Creates DATA_DIR private to the relay's user, or makes an existing one so (a relay run from a
 * checkout before this made it 0755 and its files 0644). The images folder and its subfolders
 * are made private too; the database files are handled where they are opened (db/connect.ts).
 * Returns what it could not change because another user owns it (a bind mount, say), for the log:
 * refusing to start over that would be worse than running with the operator's own permissions.
 */
export function secureDataDir(dataDir: string): string[] {
  const notOurs: string[] = []
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE })
  restrict(dataDir, PRIVATE_DIR_MODE, notOurs)
  const images = path.join(dataDir, 'images')
  if (!existsSync(images)) return notOurs
  restrict(images, PRIVATE_DIR_MODE, notOurs)
  for (const entry of readdirSync(images, { withFileTypes: true })) {
    if (entry.isDirectory()) restrict(path.join(images, entry.name), PRIVATE_DIR_MODE, notOurs)
  }
  return notOurs
}
