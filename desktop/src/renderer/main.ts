import { mount } from 'svelte'
import App from './App.svelte'
import { connectBridge } from './lib/bridge'
import { managersContext } from './lib/context'
import { AppState } from './lib/managers/app.svelte'
import { ChatsState } from './lib/managers/chats.svelte'
import { MediaCache } from './lib/managers/media.svelte'
import { UiState } from './lib/managers/ui.svelte'
import './styles/app.css'

const target = document.getElementById('app')
if (!target) throw new Error('index.html has no #app element')
const bridge = connectBridge()
const context = managersContext({
  app: new AppState(bridge),
  chats: new ChatsState(bridge),
  media: new MediaCache(bridge),
  ui: new UiState(bridge),
})
mount(App, { target, context })
