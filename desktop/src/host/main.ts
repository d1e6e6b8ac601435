import { homedir } from 'node:os'
import path from 'node:path'
import { TOKEN_PATTERN } from './host-file'
import { startHost } from './server'

/**
 * Browser mode from the command line:
 *   PARLEY_DATA_DIR    where accounts are kept (default ~/.parley)
 *   PARLEY_HOST_PORT   the loopback port (default: the one used last with this data folder, else
 *                      any free one; 0 always picks a free one)
 *   PARLEY_HOST_TOKEN  the token in the address (default: the one saved in the data folder's
 *                      browser-host.json, made on first start)
 * Prints the address to open, token included: the same one at every start.
 */
async function main(): Promise<void> {
  const rawPort = process.env.PARLEY_HOST_PORT
  const port = rawPort === undefined || rawPort === '' ? undefined : Number(rawPort)
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error(`parley host: PARLEY_HOST_PORT must be a port number, not '${rawPort}'`)
    process.exit(2)
  }
  const token = process.env.PARLEY_HOST_TOKEN || undefined
  if (token !== undefined && !TOKEN_PATTERN.test(token)) {
    console.error('parley host: PARLEY_HOST_TOKEN must be 32 to 256 letters, digits, - or _')
    process.exit(2)
  }
  const dataDir = path.resolve(process.env.PARLEY_DATA_DIR ?? path.join(homedir(), '.parley'))
  const host = await startHost({ dataDir, port, token })
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
