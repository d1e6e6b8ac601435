import type {
  AppInfo,
  BridgeParams,
  ConnectionInfo,
  ProfileView,
  SessionView,
  Settings,
} from '@parley/shared'
import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import type { HostLink } from '../host-link'
import { toBase64 } from '../pictures'

const defaultConnection: ConnectionInfo = { state: 'offline', since: 0, lastError: null }

/**
 * Who is signed in (and their profile), the connection to the relay, this device's settings and
 * the theme. One per window, created by main.ts and shared through context.
 */
export class AppState {
  readonly #bridge: Bridge
  #ready = $state(false)
  #session = $state<SessionView | null>(null)
  #connection = $state<ConnectionInfo>(defaultConnection)
  #settings = $state<Settings | null>(null)
  #info = $state<AppInfo>({ shell: 'browser', version: '', platform: '', lastRelayUrl: null })
  #systemDark = $state(false)
  /** Why the session ended, when it was not the user's choice (shown on the sign-in screen). */
  sessionNotice = $state<string | null>(null)
  /** Browser mode: the page's link to the Parley host process (see HostLink). */
  hostLink = $state<HostLink>('up')

  constructor(bridge: Bridge) {
    this.#bridge = bridge
    const media = window.matchMedia('(prefers-color-scheme: dark)')
    this.#systemDark = media.matches
    media.addEventListener('change', (event) => {
      this.#systemDark = event.matches
    })
    bridge.on('session.changed', ({ session, reason }) => {
      this.#session = session
      if (session) this.#usedRelay(session)
      if (reason === 'expired') this.sessionNotice = 'Your session ended. Sign in again to keep syncing.'
      if (session) void this.#loadSettings()
    })
    bridge.on('connection.changed', (info) => {
      this.#connection = info
    })
    bridge.on('settings.changed', (settings) => {
      this.#settings = settings
    })
    bridge.on('profile.changed', ({ user }) => {
      if (this.#session) this.#session = { ...this.#session, user }
    })
    bridge.onReconnect(() => void this.load())
    bridge.onStatus((link) => {
      this.hostLink = link
    })
  }

  get ready() {
    return this.#ready
  }
  get session() {
    return this.#session
  }
  get me(): ProfileView | null {
    return this.#session?.user ?? null
  }
  get connection() {
    return this.#connection
  }
  get settings() {
    return this.#settings
  }
  get info() {
    return this.#info
  }
  get dark(): boolean {
    const theme = this.#settings?.theme ?? 'system'
    return theme === 'dark' || (theme === 'system' && this.#systemDark)
  }

  async load(): Promise<void> {
    const [session, connection, info] = await Promise.all([
      call(this.#bridge, 'auth.session', {}),
      call(this.#bridge, 'connection.get', {}),
      call(this.#bridge, 'app.info', {}),
    ])
    this.#session = session
    this.#connection = connection
    this.#info = info
    await this.#loadSettings()
    this.#ready = true
  }

  async #loadSettings(): Promise<void> {
    this.#settings = await call(this.#bridge, 'settings.get', {})
  }

  async updateSettings(changes: Partial<Settings>): Promise<void> {
    this.#settings = await call(this.#bridge, 'settings.set', changes)
  }

  async signOut(): Promise<void> {
    await call(this.#bridge, 'auth.logout', {})
    this.#session = null
  }

  async signIn(params: BridgeParams<'auth.login'>): Promise<void> {
    this.#signedIn(await call(this.#bridge, 'auth.login', params))
  }

  async register(params: BridgeParams<'auth.register'>): Promise<void> {
    this.#signedIn(await call(this.#bridge, 'auth.register', params))
  }

  /** The sign-in screen's answer; the core's session.changed (which loads the settings) follows. */
  #signedIn(session: SessionView): void {
    this.sessionNotice = null
    this.#session = session
    this.#usedRelay(session)
  }

  /** The core remembers the relay of each sign-in (app.info); so does this copy of its answer. */
  #usedRelay(session: SessionView): void {
    if (this.#info.lastRelayUrl !== session.relayUrl)
      this.#info = { ...this.#info, lastRelayUrl: session.relayUrl }
  }

  /** Your name and email; the profile shows the core's answer at once. */
  async updateProfile(changes: { firstName: string; lastName: string; email: string }): Promise<void> {
    this.#setProfile(await call(this.#bridge, 'profile.update', changes))
  }

  /** A new picture (already cropped to a square). */
  async setAvatar(picture: Blob): Promise<void> {
    this.#setProfile(await call(this.#bridge, 'profile.setAvatar', { dataBase64: await toBase64(picture) }))
  }

  async removeAvatar(): Promise<void> {
    this.#setProfile(await call(this.#bridge, 'profile.update', { avatarImageId: null }))
  }

  #setProfile(user: ProfileView): void {
    if (this.#session) this.#session = { ...this.#session, user }
  }

  /** This device is online (the window is shown) or away. */
  setPresence(status: 'online' | 'away'): void {
    void this.#bridge.invoke('presence.set', { status })
  }

  /** Browser mode: the link to the app came back (it may have restarted, knowing nothing of this window). */
  onReconnect(listener: () => void): () => void {
    return this.#bridge.onReconnect(listener)
  }
}
