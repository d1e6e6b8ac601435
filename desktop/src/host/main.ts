import { homedir } from 'node:os'
import path from 'node:path'
import { startHost } from './server'

/**
 * Browser mode from the command line:
 *   PARLEY_DATA_DIR   where accounts are kept (default ~/.parley)
 *   PARLEY_HOST_PORT  the loopback port (default 0: any free one)
 * Prints the address to open, token included.
 */
async function main(): Promise<void> {
  const rawPort = process.env.PARLEY_HOST_PORT ?? '0'
  const port = Number(rawPort)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`parley host: PARLEY_HOST_PORT must be a port number, not '${rawPort}'`)
    process.exit(2)
  }
  const dataDir = path.resolve(process.env.PARLEY_DATA_DIR ?? path.join(homedir(), '.parley'))
  const host = await startHost({ dataDir, port })
  console.log(`Parley is running in browser mode (data in ${dataDir}).`)
  console.log(`Open ${host.url}`)
  let closing = false
  const shutdown = async () => {
    if (closing) return
    closing = true
    await host.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown())
  process.on('SIGTERM', () => void shutdown())
}

main().catch((error) => {
  console.error('parley host failed to start:', error instanceof Error ? error.message : error)
  process.exit(1)
})
