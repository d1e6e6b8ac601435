#!/usr/bin/env node
// `parley-relay`: runs the relay (src/server.ts) with its settings from the environment (PORT,
// HOST, DATA_DIR, DATABASE_URL, REDIS_URL, ...; see relay-server/README.md). The relay ships as
// TypeScript source, as `npm start` runs it: tsx's loader is registered in this process first, so
// signals (SIGTERM from systemd or Docker) reach the server's graceful shutdown directly.
// `parley-relay admin ...` runs an operator's command (src/admin/cli.ts) against the same data.
import { register } from 'tsx/esm/api'

register()
if (process.argv[2] === 'admin') {
  const { main } = await import('../src/admin/cli.ts')
  process.exitCode = await main(process.argv.slice(3))
} else {
  await import('../src/server.ts')
}
