import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { test } from 'vitest'
import { buildApp } from '../../src/app'
import { loadConfig, type RelayConfig } from '../../src/config'
import { createPostgresSchema, type TestDialect } from './dialects'

export interface TestRelay {
  app: FastifyInstance
  url: string
  config: RelayConfig
  close: () => Promise<void>
}

export interface StartOptions {
  dialect?: TestDialect
  /** Environment overrides, as an operator would set them. */
  env?: Record<string, string>
  clock?: () => number
  sessionSweepMs?: number
  /** Reuse a database (another relay's) instead of making a new one. */
  databaseUrl?: string
  dataDir?: string
}

/** Limits high enough that ordinary tests never meet them; rate-limit tests set their own. */
const RELAXED_LIMITS = {
  RATE_LIMIT_PER_MINUTE: '1000000',
  RATE_LIMIT_AUTH_PER_MINUTE: '1000000',
  SOCKET_EVENTS_PER_SECOND: '1000000',
  SOCKET_EVENTS_PER_USER_PER_SECOND: '1000000',
  SOCKET_HANDSHAKES_PER_MINUTE: '1000000',
  MAX_SOCKETS_PER_USER: '10000',
  LOGIN_FREE_FAILURES: '1000000',
  LOGIN_FREE_FAILURES_PER_ADDRESS: '1000000',
  SEARCHES_PER_MINUTE: '1000000',
  CONTACT_REQUESTS_PER_HOUR: '1000000',
}

/** A real relay on 127.0.0.1 and an ephemeral port, with its own database. */
export async function startRelay(options: StartOptions = {}): Promise<TestRelay> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'parley-relay-'))
  let databaseUrl = options.databaseUrl
  let dropSchema: (() => Promise<void>) | undefined
  if (!databaseUrl && options.dialect === 'postgres') {
    const schema = await createPostgresSchema()
    databaseUrl = schema.url
    dropSchema = schema.drop
  }
  const config = loadConfig({
    ...RELAXED_LIMITS,
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    ...(databaseUrl && { DATABASE_URL: databaseUrl }),
    ...options.env,
  })
  const app = await buildApp(config, {
    ...(options.clock && { clock: options.clock }),
    ...(options.sessionSweepMs && { sessionSweepMs: options.sessionSweepMs }),
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('relay did not bind a TCP port')
  let closed = false
  return {
    app,
    config,
    url: `http://127.0.0.1:${address.port}`,
    close: async () => {
      if (closed) return
      closed = true
      await app.close()
      await dropSchema?.()
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

function relayTest(options: StartOptions) {
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern; it has none
  return test.extend('relay', { scope: 'file' }, async ({}, { onCleanup }) => {
    const relay = await startRelay(options)
    onCleanup(() => relay.close())
    return relay
  })
}

/**
 * Per dialect, a test API whose `relay` fixture is a relay started with these options for the file
 * (by the first test or hook that asks for it) and closed when the file is done, as fastify/demo's
 * build(t). Vitest wants file fixtures made at the top of the file:
 * `const withRelay = relayTests()`, then in `describe.each(dialects)`, `const it = withRelay[dialect]`
 * and `it('…', async ({ relay }) => …)`.
 */
export function relayTests(options: Omit<StartOptions, 'dialect'> = {}) {
  return {
    sqlite: relayTest({ ...options, dialect: 'sqlite' }),
    postgres: relayTest({ ...options, dialect: 'postgres' }),
  } satisfies Record<TestDialect, unknown>
}

/** Every file under one of the relay's blob folders (`images` or `files`), temporary ones included. */
export function storedUnder(relay: TestRelay, folder: 'images' | 'files'): string[] {
  const root = path.join(relay.config.dataDir, folder)
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name))
  } catch {
    return [] // nothing stored yet
  }
}
