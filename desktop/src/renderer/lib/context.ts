import { getContext } from 'svelte'
import type { AccountDataState } from './managers/account-data.svelte'
import type { AppState } from './managers/app.svelte'
import type { ChatsState } from './managers/chats.svelte'
import type { DraftsState } from './managers/drafts.svelte'
import type { GroupsState } from './managers/groups.svelte'
import type { MediaCache } from './managers/media.svelte'
import type { NotificationPermissionState } from './managers/notification-permission.svelte'
import type { SearchState } from './managers/search.svelte'
import type { UiState } from './managers/ui.svelte'
import type { VoicePlayer } from './voice/player.svelte'

export interface Managers {
  app: AppState
  /** The keychain's state, exports, deleting the account. */
  accountData: AccountDataState
  chats: ChatsState
  drafts: DraftsState
  groups: GroupsState
  media: MediaCache
  /** What the browser allows for notifications (browser mode). */
  notifications: NotificationPermissionState
  search: SearchState
  ui: UiState
  /** Plays voice messages, one at a time. */
  voice: VoicePlayer
}

const key = Symbol('parley.managers')

/** The context map `mount` gives App: the managers every component reaches with managers(). */
export function managersContext(managers: Managers): Map<symbol, Managers> {
  return new Map([[key, managers]])
}

export function managers(): Managers {
  const value = getContext<Managers | undefined>(key)
  if (!value) throw new Error('managers() outside App')
  return value
}
