import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * The relay address as this device keeps it: origin plus any path prefix, no trailing slash.
 * Null for anything that is not a plain http(s) address (credentials, query and fragment included).
 */
export function normalizeRelayUrl(input: string): string | null {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (url.username || url.password || url.search || url.hash) return null
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/** `<dataDir>/accounts/<host>_<port>-<userId>.sqlite`: one database per account and relay. */
export function accountFile(dataDir: string, relayUrl: string, userId: number): string {
  const url = new URL(relayUrl)
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  const host = url.hostname.replace(/[^A-Za-z0-9.-]/g, '_')
  // Two relays behind one host under different paths must not share a file.
  const prefix = url.pathname.replace(/\/+$/, '')
  const suffix = prefix ? `-${createHash('sha256').update(prefix).digest('hex').slice(0, 8)}` : ''
  return path.join(dataDir, 'accounts', `${host}_${port}${suffix}-${userId}.sqlite`)
}

const CURRENT = 'current-account.json'

/** The account to reopen at start (the one signed in last), relative to the data folder. */
export function readCurrentAccount(dataDir: string): string | null {
  const file = path.join(dataDir, CURRENT)
  if (!existsSync(file)) return null
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { file?: unknown }
    if (typeof parsed.file !== 'string' || parsed.file.includes('..')) return null
    return path.join(dataDir, parsed.file)
  } catch {
    return null
  }
}

export function writeCurrentAccount(dataDir: string, accountPath: string | null): void {
  const file = path.join(dataDir, CURRENT)
  if (accountPath === null) {
    rmSync(file, { force: true })
    return
  }
  mkdirSync(dataDir, { recursive: true })
  // Written aside and renamed, so a crash never leaves half a pointer.
  const temporary = `${file}.tmp`
  writeFileSync(temporary, JSON.stringify({ file: path.relative(dataDir, accountPath) }))
  renameSync(temporary, file)
}
