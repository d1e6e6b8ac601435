import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  type BridgeEvent,
  type BridgeEventPayload,
  type BridgeMethod,
  type BridgeParams,
  type BridgeResult,
  type BridgeValue,
  bridgeMethods,
  dmKey,
  type MessageView,
  type SessionView,
  validate,
} from '@parley/shared'
import { silentLogger, type Timing } from '../../src/core/logger'
import { type CoreOptions, CoreService } from '../../src/core/service'

/** Short delays so tests that wait out a reconnect or a backoff stay quick. */
export const fastTiming: Partial<Timing> = {
  ackTimeoutMs: 2000,
  syncTimeoutMs: 5000,
  restTimeoutMs: 5000,
  reconnectDelayMs: 50,
  reconnectDelayMaxMs: 300,
  retryBaseMs: 50,
  retryMaxMs: 400,
  typingExpiryMs: 300,
  groupDeliveredHoldMs: 50,
}

export interface TestCore {
  service: CoreService
  dataDir: string
  /** Calls a method and returns its value; fails the test with the error otherwise. Checks the value's schema. */
  ok<M extends BridgeMethod>(method: M, params: BridgeParams<M>): Promise<BridgeValue<M>>
  call<M extends BridgeMethod>(method: M, params: BridgeParams<M>): Promise<BridgeResult<M>>
  events<E extends BridgeEvent>(event: E): BridgeEventPayload<E>[]
  /** Stops the core (as quitting the app would); the data folder stays for a restart. */
  stop(): Promise<void>
  /** Starts a new core on the same data folder (the app launched again). */
  restart(): Promise<TestCore>
  /** Stops and deletes the data folder. */
  dispose(): Promise<void>
}

export async function startCore(
  dataDir = mkdtempSync(path.join(tmpdir(), 'parley-core-')),
  options: Partial<Omit<CoreOptions, 'dataDir'>> = {},
): Promise<TestCore> {
  const service = await CoreService.start({ dataDir, logger: silentLogger, timing: fastTiming, ...options })
  const seen = new Map<string, unknown[]>()
  service.onAny((event, payload) => {
    const list = seen.get(event) ?? []
    list.push(payload)
    seen.set(event, list)
  })
  let stopped = false
  const core: TestCore = {
    service,
    dataDir,
    call: (method, params) => service.call(method, params),
    ok: async (method, params) => {
      const result = await service.call(method, params)
      if (!result.ok) throw new Error(`${method} failed: ${result.error.code}: ${result.error.message}`)
      const checked = validate(bridgeMethods[method].result, result.value)
      if (!checked.ok) throw new Error(`${method} returned a value outside its schema: ${checked.message}`)
      return result.value
    },
    events: <E extends BridgeEvent>(event: E) => (seen.get(event) ?? []) as BridgeEventPayload<E>[],
    stop: async () => {
      if (stopped) return
      stopped = true
      await service.close()
    },
    restart: async () => {
      await core.stop()
      return startCore(dataDir, options)
    },
    dispose: async () => {
      await core.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return core
}

let counter = 0

/** Registers a new user through the core (a factory: unique username, fixed password). */
export async function signUp(core: TestCore, relayUrl: string): Promise<SessionView> {
  counter += 1
  const username = `u${process.pid}x${counter}${Math.random().toString(36).slice(2, 6)}`
  return core.ok('auth.register', {
    relayUrl,
    username,
    password: 'correct horse battery',
    firstName: 'Test',
    lastName: `User ${counter}`,
    email: `${username}@example.com`,
  })
}

/** Makes two signed-in cores mutual contacts. */
export async function befriend(a: TestCore, aSession: SessionView, b: TestCore, bSession: SessionView) {
  await a.ok('contacts.add', { username: bSession.user.username })
  await b.ok('contacts.accept', { userId: aSession.user.id })
}

/** Polls until `check` returns something truthy (or passes without throwing), else fails with its last error. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 8000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
      last = new Error(`${what} not met`)
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw last instanceof Error ? last : new Error(String(last))
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Every message of a conversation on this core, oldest first. */
export async function conversation(core: TestCore, peerId: number): Promise<MessageView[]> {
  const page = await core.ok('messages.page', { conversation: dmKey(peerId), limit: 200 })
  return [...page.messages].reverse()
}

/**
 * Two signed-in cores that are mutual contacts, both online at `relayUrl`. `dispose` stops the
 * cores that `cores` holds when it runs, so a test may replace one with its restart.
 */
export async function startContacts(relayUrl: string, options: Partial<Omit<CoreOptions, 'dataDir'>> = {}) {
  const cores = { alice: await startCore(undefined, options), bob: await startCore(undefined, options) }
  const dispose = async () => {
    await cores.alice.dispose()
    await cores.bob.dispose()
  }
  try {
    const a = await signUp(cores.alice, relayUrl)
    const b = await signUp(cores.bob, relayUrl)
    await befriend(cores.alice, a, cores.bob, b)
    await waitOnline(cores.alice)
    await waitOnline(cores.bob)
    return { cores, a, b, dispose }
  } catch (error) {
    await dispose()
    throw error
  }
}

export async function waitOnline(core: TestCore, timeoutMs = 8000): Promise<void> {
  await waitFor(async () => (await core.ok('connection.get', {})).state === 'online', timeoutMs, 'online')
}
