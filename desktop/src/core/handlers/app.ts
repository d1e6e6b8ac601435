import type { ConnectionInfo } from '@parley/shared'
import { readLastRelayUrl } from '../accounts'
import type { Core, Handlers } from './context'

/** The app and its windows: what it is, the connection, which conversation is shown, presence. */
export function appHandlers(
  core: Core,
): Handlers<'app.info' | 'app.setViewing' | 'connection.get' | 'presence.set'> {
  const { session } = core
  return {
    'app.info': async () => ({
      ...core.appInfo,
      lastRelayUrl: session.account?.relayUrl ?? readLastRelayUrl(core.dataDir),
    }),
    'app.setViewing': async ({ conversation }) => {
      core.viewing = conversation
      return null
    },
    'connection.get': async (): Promise<ConnectionInfo> =>
      session.account?.connection ?? { state: 'offline', since: core.startedAt, lastError: null },
    'presence.set': async ({ status }, caller) => {
      session.signedIn()
      core.presence.set(caller, status)
      return null
    },
  }
}
