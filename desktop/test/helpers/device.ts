import type { SessionView } from '@parley/shared'
import type { CoreOptions } from '../../src/core/options'
import { signUp, startCore, type TestCore, waitOnline } from './core'
import { startProxy, type TestProxy } from './proxy'
import type { TestRelay } from './relay'

/** A signed-in core behind a proxy of its own (so it can go offline). */
export interface Device {
  core: TestCore
  session: SessionView
  id: number
  proxy: TestProxy
}

/**
 * A new account on `relay` (or, with `login`, a second device of that account), online; what to
 * stop afterwards goes into `cleanup`; `options` as a shell passes them (Electron's save dialog...).
 */
export async function startDevice(
  relay: TestRelay,
  cleanup: (() => Promise<void>)[],
  login?: SessionView,
  options: Partial<Omit<CoreOptions, 'dataDir'>> = {},
): Promise<Device> {
  const proxy = await startProxy(Number(new URL(relay.url).port))
  const core = await startCore(undefined, options)
  cleanup.push(
    () => core.dispose(),
    () => proxy.close(),
  )
  const session = login
    ? await core.ok('auth.login', {
        relayUrl: proxy.url,
        username: login.user.username,
        password: 'correct horse battery',
      })
    : await signUp(core, proxy.url)
  await waitOnline(core)
  return { core, session, id: session.user.id, proxy }
}
