import type { AppInfo, BridgeMethod, BridgeParams, BridgeValue, ConversationKey } from '@parley/shared'
import type { Logger } from '../logger'
import type { ChangeEvents } from '../message-events'
import type { Emit, SaveAs, TokenCipher } from '../options'
import type { WindowPresence } from '../presence'
import type { Session } from '../session'
import type { TypingTimers } from '../typing'
import type { UnreadCounter } from '../unread'

/** What every domain's handlers share: the session, the small owners, and the way to tell the windows. */
export interface Core {
  readonly dataDir: string
  readonly session: Session
  readonly unread: UnreadCounter
  readonly presence: WindowPresence
  readonly typing: TypingTimers
  /** What changed, told to the windows as deltas. */
  readonly changes: ChangeEvents
  readonly emit: Emit
  readonly clock: () => number
  readonly logger: Logger
  readonly appInfo: Omit<AppInfo, 'lastRelayUrl'>
  readonly startedAt: number
  /** Electron's keychain cipher (none in browser mode): what `app.security` reports on. */
  readonly tokenCipher: TokenCipher | undefined
  /** Electron's save dialog (none in browser mode). */
  readonly saveAs: SaveAs | undefined
  /** The conversation the window shows, as the renderer last said (`app.setViewing`). */
  viewing: ConversationKey | null
}

/** The bridge methods `M`, each with its params already checked against the method's schema. */
export type Handlers<M extends BridgeMethod> = {
  [K in M]: (params: BridgeParams<K>, caller: string) => Promise<BridgeValue<K>>
}
