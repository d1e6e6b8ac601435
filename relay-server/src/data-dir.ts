import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import path from 'node:path'

/** Folders only their owner may enter, files only their owner may read: other local users see nothing. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/**
 * Creates DATA_DIR private to the relay's user, or makes an existing one so (a relay run from a
 * checkout before this made it 0755 and its files 0644). The images folder and its subfolders
 * are made private too; the database files are handled where they are opened (db/connect.ts).
 */
export function secureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE })
  chmodSync(dataDir, PRIVATE_DIR_MODE)
  const images = path.join(dataDir, 'images')
  if (!existsSync(images)) return
  chmodSync(images, PRIVATE_DIR_MODE)
  for (const entry of readdirSync(images, { withFileTypes: true })) {
    if (entry.isDirectory()) chmodSync(path.join(images, entry.name), PRIVATE_DIR_MODE)
  }
}
