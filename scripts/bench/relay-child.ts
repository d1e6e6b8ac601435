import { Child, forkTs } from './ipc'
import type { RelayApi } from './relay-process'

/** Limits far above what a bench sends, so that it measures the relay rather than its refusals. */
const BENCH_LIMITS = {
  RATE_LIMIT_PER_MINUTE: '10000000',
  RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
  SOCKET_EVENTS_PER_SECOND: '1000000',
  SOCKET_EVENTS_PER_USER_PER_SECOND: '1000000',
  SOCKET_HANDSHAKES_PER_MINUTE: '1000000',
  MAX_SOCKETS_PER_USER: '10000',
}

/**
 * The relay under test in its own process (relay-process.ts), configured through its environment
 * like the real server: loopback, an ephemeral port, SQLite in `dataDir` unless `env` names a
 * DATABASE_URL, no Redis, no log, the bench limits; `env` adds or overrides settings.
 */
export function forkRelay(dataDir: string, env: Record<string, string> = {}): Child<RelayApi> {
  return new Child<RelayApi>(
    'relay',
    forkTs('./relay-process.ts', {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: dataDir,
        DATABASE_URL: '',
        REDIS_URL: '',
        LOG_LEVEL: 'silent',
        ...BENCH_LIMITS,
        ...env,
      },
      execArgv: ['--expose-gc', ...(process.env.BENCH_RELAY_NODE_FLAGS ?? '').split(' ').filter(Boolean)],
    }),
  )
}
