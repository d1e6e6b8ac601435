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

/**
 * `<dataDir>/current-account.json`: the account to reopen at start (the one signed in last,
 * relative to the data folder; none after signing out) and the relay it is on, which is kept
 * after signing out, so the sign-in screen offers the relay this app used last.
 */
function readCurrent(dataDir: string): { file: string | null; relayUrl: string | null } {
  const file = path.join(dataDir, CURRENT)
  if (!existsSync(file)) return { file: null, relayUrl: null }
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { file?: unknown; relayUrl?: unknown }
    const account = typeof parsed.file === 'string' && !parsed.file.includes('..') ? parsed.file : null
    const relayUrl = typeof parsed.relayUrl === 'string' ? normalizeRelayUrl(parsed.relayUrl) : null
    return { file: account && path.join(dataDir, account), relayUrl }
  } catch {
    return { file: null, relayUrl: null }
  }
}

/** The account to reopen at start (the one signed in last), if any. */
export function readCurrentAccount(dataDir: string): string | null {
  return readCurrent(dataDir).file
}

/** The relay of the account signed in last, signed out since or not (null before the first). */
export function readLastRelayUrl(dataDir: string): string | null {
  return readCurrent(dataDir).relayUrl
}

/** Records the account signed in (with its relay), or that none is (the relay is kept). */
export function writeCurrentAccount(
  dataDir: string,
  account: { file: string; relayUrl: string } | null,
): void {
  const file = path.join(dataDir, CURRENT)
  const relayUrl = account ? account.relayUrl : readLastRelayUrl(dataDir)
  if (!account && !relayUrl) {
    rmSync(file, { force: true })
    return
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  // Written aside and renamed, so a crash never leaves half a pointer.
  const temporary = `${file}.tmp`
  const content = account ? { file: path.relative(dataDir, account.file), relayUrl } : { relayUrl }
  writeFileSync(temporary, JSON.stringify(content), { mode: 0o600 })
  renameSync(temporary, file)
}
