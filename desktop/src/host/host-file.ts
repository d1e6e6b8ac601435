import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from '../core/logger'

/**
 * `<dataDir>/browser-host.json`: the token and port browser mode used last, so that it prints the
 * same address after a restart and an open tab, or a reload, keeps working. It holds the key to
 * the bridge: only its owner may read it (mode 0600).
 */
export const HOST_FILE = 'browser-host.json'

/** What a token must look like: URL-safe, and long enough not to be guessed (256 bits when made here). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,256}$/

export interface HostFile {
  token: string
  port: number
}

export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The saved token and port; null when there is none, or when the file is not one of ours. */
export function readHostFile(dataDir: string, logger: Logger): HostFile | null {
  const file = path.join(dataDir, HOST_FILE)
  if (!existsSync(file)) return null
  let parsed: { token?: unknown; port?: unknown }
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    logger.warn(`${file} is not readable JSON: browser mode makes a new token (a new address)`)
    return null
  }
  const { token, port } = parsed ?? {}
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
    logger.warn(`${file} holds no valid token: browser mode makes a new one (a new address)`)
    return null
  }
  // Windows has no such mode bits; elsewhere a copy that others can read is closed again.
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600)
    logger.warn(`${file} was readable by other users; it is now readable only by you`)
  }
  const validPort = Number.isInteger(port) && (port as number) > 0 && (port as number) <= 65535
  return { token, port: validPort ? (port as number) : 0 }
}

export function writeHostFile(dataDir: string, value: HostFile): void {
  const file = path.join(dataDir, HOST_FILE)
  const temporary = `${file}.tmp`
  // Created readable by its owner only, and renamed into place, so the token is never exposed
  // and never half-written.
  rmSync(temporary, { force: true })
  writeFileSync(temporary, `${JSON.stringify(value)}\n`, { mode: 0o600, flag: 'wx' })
  renameSync(temporary, file)
}
