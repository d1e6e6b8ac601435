/**
 * `npm start`: a relay on its embedded defaults plus the desktop app, for trying Parley on one
 * machine. The app is Electron when its binary is installed (and a display is there to show it);
 * otherwise browser mode: the desktop core in this process, the UI at a printed address.
 *
 *   PORT                 the relay's port (default 8080)
 *   DATA_DIR             the relay's data (default relay-server/data)
 *   PARLEY_DATA_DIR      the desktop app's accounts (default desktop/data)
 *   PARLEY_HOST_PORT     browser mode's port (default 8081; 0 picks a free one)
 *   PARLEY_HOST_TOKEN    browser mode's token (default: the one kept in the app's data folder, so
 *                        the address it prints is the same at every start)
 *   PARLEY_BROWSER_MODE  set to 1 to use browser mode even where Electron is installed
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readInteger } from '../relay-server/src/config'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const relayPort = readInteger(process.env, 'PORT', 8080, 1, 65535)
const relayUrl = `http://127.0.0.1:${relayPort}`
const children: ChildProcess[] = []
let stopping = false

function electronBinary(): string | null {
  if (process.env.PARLEY_BROWSER_MODE === '1') return null
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return null
  try {
    // The electron package's main export is the binary's path; it throws when the download was skipped.
    const binary = createRequire(path.join(root, 'desktop', 'package.json'))('electron') as unknown
    return typeof binary === 'string' && existsSync(binary) ? binary : null
  } catch {
    return null
  }
}

async function waitForRelay(): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${relayUrl}/health`)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`the relay did not answer on ${relayUrl} within 30 s`)
}

function stopAll(code: number): never {
  stopping = true
  for (const child of children) child.kill('SIGTERM')
  process.exit(code)
}

async function main(): Promise<void> {
  const relay = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'relay-server/src/server.ts')], {
    cwd: path.join(root, 'relay-server'),
    env: {
      ...process.env,
      PORT: String(relayPort),
      HOST: process.env.HOST ?? '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  children.push(relay)
  relay.on('exit', (code) => {
    // Ctrl+C reaches the relay too: its exit is then expected.
    if (stopping) return
    console.error(`parley: the relay stopped (exit ${code ?? 'signal'})`)
    stopAll(1)
  })
  await waitForRelay()
  console.log(`Relay listening on ${relayUrl} (data in ${process.env.DATA_DIR ?? 'relay-server/data'}).`)

  const electron = electronBinary()
  if (electron) {
    const built = spawnSync('npm', ['run', 'build:electron'], { cwd: root, stdio: 'inherit' })
    if (built.status !== 0) stopAll(1)
    const app = spawn(electron, [path.join(root, 'desktop')], { cwd: root, stdio: 'inherit' })
    children.push(app)
    app.on('exit', (code) => stopAll(code ?? 0))
    return
  }

  const built = spawnSync('npm', ['run', 'build:renderer'], { cwd: root, stdio: 'inherit' })
  if (built.status !== 0) stopAll(1)
  const { startHost } = await import('../desktop/src/host/server')
  const dataDir = path.resolve(process.env.PARLEY_DATA_DIR ?? path.join(root, 'desktop', 'data'))
  const port = readInteger(process.env, 'PARLEY_HOST_PORT', 8081, 0, 65535)
  const host = await startHost({ dataDir, port, token: process.env.PARLEY_HOST_TOKEN || undefined })
  console.log('')
  console.log('Parley is running in browser mode (Electron is not installed here).')
  console.log(`  Open ${host.url}`)
  console.log(`  Relay address to sign in with: ${relayUrl}`)
  console.log('  Ctrl+C stops both.')
  const shutdown = async () => {
    if (stopping) return
    stopping = true
    await host.close()
    stopAll(0)
  }
  process.on('SIGINT', () => void shutdown())
  process.on('SIGTERM', () => void shutdown())
}

main().catch((error) => {
  console.error('parley failed to start:', error instanceof Error ? error.message : error)
  stopAll(1)
})
