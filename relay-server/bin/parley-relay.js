#!/usr/bin/env node
// `parley-relay`: runs the relay with its settings from the environment (PORT, HOST, DATA_DIR,
// DATABASE_URL, REDIS_URL, ...; see relay-server/README.md); `parley-relay admin ...` runs an
// operator's command against the same data.
//
// It runs the built JavaScript (dist/, made by `npm run build`) when that build is there and newer
// than every source file; otherwise the TypeScript sources through tsx's loader, registered in this
// process (so signals such as SIGTERM from systemd or Docker still reach the graceful shutdown
// directly), with a note to build. A checkout updated without rebuilding thus runs what it holds,
// never an older build.
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const relay = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const admin = process.argv[2] === 'admin'
const built = path.join(relay, 'dist', admin ? 'admin-cli.js' : 'server.js')

/** The newest modification time under a folder of sources (0 when it is absent). */
function newest(dir) {
  if (!existsSync(dir)) return 0
  let time = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) time = Math.max(time, statSync(path.join(entry.parentPath, entry.name)).mtimeMs)
  }
  return time
}

function useBuild() {
  if (process.env.PARLEY_RELAY_FROM_SOURCE === '1' || !existsSync(built)) return false
  const sources = Math.max(newest(path.join(relay, 'src')), newest(path.join(relay, '..', 'shared', 'src')))
  if (statSync(built).mtimeMs >= sources) return true
  console.error(
    'parley-relay: the build in dist/ is older than the sources; running the sources (npm run build)',
  )
  return false
}

let entry
if (useBuild()) {
  entry = await import(pathToFileURL(built).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  entry = await import(admin ? '../src/admin/cli.ts' : '../src/server.ts')
}
if (admin) process.exitCode = await entry.main(process.argv.slice(3))
