import type { BridgeMethod } from '@parley/shared'
import { wireAccount } from '../account-events'
import { consoleLogger, defaultTiming } from '../logger'
import { ChangeEvents } from '../message-events'
import type { CoreOptions, Emit } from '../options'
import { WindowPresence } from '../presence'
import { Session } from '../session'
import { loadStoreKey, type StoreKey } from '../store-key'
import { TypingTimers } from '../typing'
import { UnreadCounter } from '../unread'
import { APP_VERSION } from '../version'
import { accountDataHandlers } from './account-data'
import { appHandlers } from './app'
import { contactHandlers } from './contacts'
import type { Core, Handlers } from './context'
import { conversationHandlers } from './conversations'
import { fileHandlers } from './files'
import { groupHandlers } from './groups'
import { mediaHandlers } from './media'
import { messageHandlers } from './messages'
import { searchHandlers } from './search'
import { sessionHandlers } from './session'
import { settingsHandlers } from './settings'

export type { Core, Handlers }

/** The Core the handlers share, from the service's options; `emit` tells every window. */
export function assembleCore(options: CoreOptions, emit: Emit): Core {
  const clock = options.clock ?? Date.now
  const logger = options.logger ?? consoleLogger
  const timing = { ...defaultTiming, ...options.timing }
  const current = () => session.account
  let storeKey: Promise<StoreKey> | undefined
  const session: Session = new Session({
    dataDir: options.dataDir,
    clock,
    logger,
    timing,
    fetch: options.fetch,
    mediaCacheBytes: options.mediaCacheBytes,
    tokenCipher: options.tokenCipher,
    storeKey: () => {
      storeKey ??= loadStoreKey(options.dataDir, options.tokenCipher, logger)
      return storeKey
    },
    emit,
    adopted: (account) => wireAccount(core, account),
  })
  const core: Core = {
    dataDir: options.dataDir,
    session,
    unread: new UnreadCounter(emit, current),
    presence: new WindowPresence(current),
    typing: new TypingTimers(emit, timing.typingExpiryMs),
    changes: new ChangeEvents(emit),
    emit,
    clock,
    logger,
    appInfo: {
      shell: options.shell ?? 'browser',
      version: options.version ?? APP_VERSION,
      platform: process.platform,
    },
    startedAt: clock(),
    tokenCipher: options.tokenCipher,
    saveAs: options.saveAs,
    viewing: null,
  }
  return core
}

/** Every bridge method, by domain (the compiler checks that none is missing). */
export function bridgeHandlers(core: Core): Handlers<BridgeMethod> {
  return {
    ...sessionHandlers(core),
    ...contactHandlers(core),
    ...conversationHandlers(core),
    ...groupHandlers(core),
    ...messageHandlers(core),
    ...mediaHandlers(core),
    ...fileHandlers(core),
    ...settingsHandlers(core),
    ...searchHandlers(core),
    ...appHandlers(core),
    ...accountDataHandlers(core),
  }
}
