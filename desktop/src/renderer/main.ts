import { mount } from 'svelte'
import App from './App.svelte'
import { connectBridge } from './lib/bridge'
import { managersContext } from './lib/context'
import { AccountDataState } from './lib/managers/account-data.svelte'
import { AppState } from './lib/managers/app.svelte'
import { ChatsState } from './lib/managers/chats.svelte'
import { DraftsState } from './lib/managers/drafts.svelte'
import { GroupsState } from './lib/managers/groups.svelte'
import { MediaCache } from './lib/managers/media.svelte'
import { NotificationPermissionState } from './lib/managers/notification-permission.svelte'
import { OutgoingQueue } from './lib/managers/outgoing.svelte'
import { SearchState } from './lib/managers/search.svelte'
import { UiState } from './lib/managers/ui.svelte'
import { startWebNotifications } from './lib/managers/web-notifications'
import { VoicePlayer } from './lib/voice/player.svelte'
import './styles/app.css'

const target = document.getElementById('app')
if (!target) throw new Error('index.html has no #app element')
const bridge = connectBridge()
const app = new AppState(bridge)
const outgoing = new OutgoingQueue(bridge, app, window.localStorage)
const ui = new UiState(bridge, outgoing)
const notifications = new NotificationPermissionState()
const drafts = new DraftsState(bridge)
const context = managersContext({
  app,
  accountData: new AccountDataState(bridge),
  chats: new ChatsState(bridge, drafts),
  drafts,
  groups: new GroupsState(bridge),
  media: new MediaCache(bridge),
  notifications,
  search: new SearchState(bridge),
  ui,
  voice: new VoicePlayer(bridge, window.localStorage),
})
mount(App, { target, context })
// Electron notifies natively from its main process; a browser tab does it itself.
if (!window.parley) startWebNotifications(bridge, app, ui, notifications)
