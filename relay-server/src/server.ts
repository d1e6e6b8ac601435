import { buildApp } from './app'
import { ConfigError, loadConfig } from './config'

const SHUTDOWN_GRACE_MS = 10_000

async function main() {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`parley relay: ${error.message}`)
      process.exit(2)
    }
    throw error
  }
  const app = await buildApp(config)
  await app.listen({ host: config.host, port: config.port })

  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: finishing requests and queued writes')
    const timer = setTimeout(() => {
      app.log.error('shutdown took too long; exiting')
      process.exit(1)
    }, SHUTDOWN_GRACE_MS)
    timer.unref()
    await app.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((error) => {
  console.error('parley relay failed to start:', error)
  process.exit(1)
})
