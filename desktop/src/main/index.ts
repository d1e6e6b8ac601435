import path from 'node:path'
import type { ConversationKey, Settings, UnreadCounts } from '@parley/shared'
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  type NativeImage,
  Notification,
  nativeImage,
  nativeTheme,
  powerMonitor,
  protocol,
  safeStorage,
  screen,
  session,
  shell,
  Tray,
} from 'electron'
import { CoreService } from '../core/service'
import { APP_SCHEME, appScheme, createAppProtocolHandler, RENDERER_URL } from './app-protocol'
import { applyBadge } from './badge'
import { DEEP_LINK_SCHEME, DeepLinkQueue, findDeepLink, parseDeepLink } from './deep-link'
import { registerBridge } from './ipc/bridge'
import { saveFileWithDialog } from './ipc/save-file'
import { guardWindowClose, QuitController } from './lifecycle'
import { applyStartAtLogin, HIDDEN_FLAG } from './login-item'
import { applicationMenu } from './menu'
import { NotificationMute } from './mute'
import { type NotificationHandle, type NotificationSpec, Notifier } from './notifier'
import { hardenContents, hardenSession, isSafeExternalUrl, secureWebPreferences } from './security'
import { SettingsWatch } from './settings-watch'
import { applySpellcheck } from './spellcheck'
import { safeStorageCipher } from './token-cipher'
import { TrayController } from './tray'
import { keepWindowState, MIN_SIZE, placeWindow, readWindowState } from './window-state'

/**
 * The Electron main process: it wires Electron's APIs to the modules beside it, which hold the logic
 * (and are tested with fakes), and hosts the core. The renderer reaches the core only through the
 * preload's two channels.
 */

/** Also electron-builder.yml's appId: Windows ties notifications to it. */
const APP_ID = 'org.parley.desktop'
const PRELOAD = path.join(import.meta.dirname, '../preload/index.cjs')
const RENDERER_DIR = path.join(import.meta.dirname, '../renderer')
const platform = process.platform
const log = (message: string, error?: unknown) =>
  console.error(`parley: ${message}`, error instanceof Error ? error.message : (error ?? ''))

// Before ready: every renderer sandboxed, and our scheme privileged (secure, fetch-able).
app.enableSandbox()
protocol.registerSchemesAsPrivileged([appScheme])

interface RunningShell {
  showWindow(): void
  openConversation(conversation: ConversationKey): void
  openJoin(code: string): void
}

if (!app.requestSingleInstanceLock()) {
  // The running instance receives our command line (deep link included) through `second-instance`.
  app.quit()
} else {
  let running: RunningShell | null = null
  const links = new DeepLinkQueue((link) =>
    link.kind === 'join' ? running?.openJoin(link.code) : running?.openConversation(link.conversation),
  )
  links.open(findDeepLink(process.argv))
  // macOS hands links over with open-url, possibly before ready.
  app.on('open-url', (event, url) => {
    event.preventDefault()
    links.open(parseDeepLink(url))
    running?.showWindow()
  })
  app.on('second-instance', (_event, argv) => {
    running?.showWindow()
    links.open(findDeepLink(argv))
  })
  app.on('web-contents-created', (_event, contents) => hardenContents(contents, openExternal))
  if (!app.isPackaged && platform !== 'linux') {
    // Packaged builds register the scheme at install (electron-builder's `protocols`).
    app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, [path.resolve(process.argv[1] ?? '.')])
  }
  app
    .whenReady()
    .then(async () => {
      running = await startShell(links)
    })
    .catch((error: unknown) => {
      log('could not start', error)
      dialog.showErrorBox('Parley could not start', error instanceof Error ? error.message : String(error))
      app.exit(1)
    })
}

function openExternal(url: string): void {
  if (isSafeExternalUrl(url))
    void shell.openExternal(url).catch((error) => log('could not open a link', error))
}

function resource(...parts: string[]): string {
  return path.join(app.getAppPath(), 'resources', ...parts)
}

function loadIcons() {
  const image = (file: string) => nativeImage.createFromPath(resource(file))
  // macOS menu bar icons are "template" images (black and alpha, recoloured by the OS).
  const mac = platform === 'darwin'
  return {
    app: image('icon.png'),
    tray: image(mac ? 'trayTemplate.png' : 'tray.png'),
    trayUnread: image(mac ? 'trayUnreadTemplate.png' : 'tray-unread.png'),
    overlay: image('badge.png'),
  }
}

async function startShell(links: DeepLinkQueue): Promise<RunningShell> {
  hardenSession(session.defaultSession)
  // No dictionary downloads from Google unless the user names a mirror (PARLEY_SPELLCHECK_DICTIONARY_URL).
  applySpellcheck(session.defaultSession, { dictionaryUrl: process.env.PARLEY_SPELLCHECK_DICTIONARY_URL })
  protocol.handle(APP_SCHEME, createAppProtocolHandler(RENDERER_DIR))
  if (platform === 'win32') app.setAppUserModelId(APP_ID)
  if (platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') {
    log(
      'no keyring (libsecret or KWallet) found: the session token is sealed with a fixed key only, and the ' +
        "store's key is kept in a file only this user can read; Settings says so",
    )
  }
  let warnedPlain = false
  const tokenCipher = safeStorageCipher(
    safeStorage,
    () => {
      if (!warnedPlain)
        log(
          'the OS keychain is unavailable: the session token and the store key are kept in files only this user can read',
        )
      warnedPlain = true
    },
    platform,
  )

  const dataDir = process.env.PARLEY_DATA_DIR
    ? path.resolve(process.env.PARLEY_DATA_DIR)
    : path.join(app.getPath('userData'), 'parley')
  let window: BrowserWindow | null = null
  const saveAs = saveFileWithDialog({
    showSaveDialog: (options) =>
      window && !window.isDestroyed()
        ? dialog.showSaveDialog(window, options)
        : dialog.showSaveDialog(options),
    downloadsDir: () => app.getPath('downloads'),
  })
  const core = await CoreService.start({
    dataDir,
    shell: 'electron',
    version: app.getVersion(),
    tokenCipher,
    saveAs,
  })

  const quitter = new QuitController({ app, closeCore: () => core.close(), onError: (e) => log('close', e) })
  // An OS shutdown comes without before-quit. Linux and macOS let it wait for the core (the
  // event's preventDefault, which the typings leave out); Windows says so per window (session-end).
  powerMonitor.on('shutdown', (...args: unknown[]) => {
    ;(args[0] as { preventDefault?(): void } | undefined)?.preventDefault?.()
    void quitter.closeCore().then(() => app.quit())
  })
  app.on('window-all-closed', () => {
    if (platform !== 'darwin') quitter.quit()
  })

  const icons = loadIcons()
  const mute = new NotificationMute()
  // Started at login: Windows and Linux pass the flag; macOS says so through the login item.
  const startHidden =
    process.argv.includes(HIDDEN_FLAG) ||
    (platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin)
  const stateFile = path.join(app.getPath('userData'), 'window-state.json')
  let maximizeOnShow = false
  let tray: TrayController<NativeImage, Menu> | null = null
  let unreadTotal = 0

  const contents = () => (window && !window.isDestroyed() ? window.webContents : null)

  const createWindow = (): BrowserWindow => {
    const primary = screen.getPrimaryDisplay()
    const others = screen.getAllDisplays().filter((d) => d.id !== primary.id)
    const placement = placeWindow(readWindowState(stateFile), [
      primary.workArea,
      ...others.map((d) => d.workArea),
    ])
    const win = new BrowserWindow({
      ...(placement.x !== undefined && { x: placement.x, y: placement.y }),
      width: placement.width,
      height: placement.height,
      minWidth: MIN_SIZE.width,
      minHeight: MIN_SIZE.height,
      show: false,
      title: 'Parley',
      icon: icons.app,
      autoHideMenuBar: platform !== 'darwin',
      webPreferences: secureWebPreferences(PRELOAD),
    })
    maximizeOnShow = placement.maximized
    keepWindowState(win, stateFile, { onError: (e) => log('could not save the window state', e) })
    guardWindowClose(win, {
      platform,
      closeToTray: () => settings.current.closeToTray && tray !== null,
      quitting: () => quitter.quitting,
    })
    win.webContents.on('did-start-loading', () => links.unready())
    if (platform === 'win32') {
      // Windows asks before ending the session (query-session-end): hold it until the store is
      // closed, then quit. session-end itself cannot wait; it is the last chance.
      win.on('query-session-end', (event) => {
        event.preventDefault()
        void quitter.closeCore().then(() => app.quit())
      })
      win.on('session-end', () => void quitter.closeCore())
    }
    win.once('ready-to-show', () => {
      if (!startHidden || (!tray && platform !== 'darwin')) showWindow()
    })
    win.on('closed', () => {
      if (window === win) window = null
    })
    if (platform === 'win32') win.once('ready-to-show', () => applyUnread(unreadTotal))
    void win.loadURL(RENDERER_URL)
    return win
  }

  const showWindow = () => {
    if (!window || window.isDestroyed()) window = createWindow()
    const win = window
    if (maximizeOnShow && !win.isVisible()) win.maximize()
    maximizeOnShow = false
    if (win.isMinimized()) win.restore()
    win.show()
    win.focus()
  }

  const applyUnread = (total: number) => {
    unreadTotal = total
    tray?.setUnread(total)
    applyBadge(
      {
        platform,
        overlay: icons.overlay,
        setDockBadge: (text) => app.dock?.setBadge(text),
        setOverlayIcon: (image, description) => window?.setOverlayIcon(image, description),
        setBadgeCount: (count) => app.setBadgeCount(count),
      },
      total,
    )
  }

  let appliedStartAtLogin: boolean | null = null
  const applyLogin = (next: Settings) => {
    if (next.startAtLogin === appliedStartAtLogin) return
    appliedStartAtLogin = next.startAtLogin
    // An unpackaged run would register the bare Electron binary.
    if (!app.isPackaged) return
    try {
      applyStartAtLogin(next.startAtLogin, {
        platform,
        setLoginItemSettings: (s) => app.setLoginItemSettings(s),
        autostartDir: path.join(
          process.env.XDG_CONFIG_HOME || path.join(app.getPath('home'), '.config'),
          'autostart',
        ),
        executable: process.env.APPIMAGE || process.execPath,
      })
    } catch (error) {
      log('could not change start at login', error)
    }
  }
  const settings = new SettingsWatch(core, (next: Settings) => {
    nativeTheme.themeSource = next.theme
    // Signed out, the core reports default settings: they say nothing about this device's login
    // item, which stays as the signed-in account last set it.
    void core.call('auth.session', {}).then((session) => {
      if (session.ok && session.value) applyLogin(next)
    })
  })
  await settings.refresh()

  try {
    const trayIcon = new Tray(icons.tray)
    tray = new TrayController<NativeImage, Menu>({
      tray: trayIcon,
      buildMenu: (template) => Menu.buildFromTemplate(template),
      icons: { normal: icons.tray, unread: icons.trayUnread },
      mute,
      open: showWindow,
      quit: () => quitter.quit(),
    })
    if (platform !== 'darwin') trayIcon.on('click', showWindow)
  } catch (error) {
    // No tray (some Linux desktops): closing the window then quits, as closeToTray reads it.
    log('no tray icon', error)
  }
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      applicationMenu({ platform, isPackaged: app.isPackaged, open: showWindow, quit: () => quitter.quit() }),
    ),
  )

  const notifier = new Notifier<NativeImage>({
    platform,
    create: createNotification,
    settings: () => settings.current,
    isMuted: () => mute.isMuted(),
    window: () => ({
      visible: !!window && !window.isDestroyed() && window.isVisible() && !window.isMinimized(),
      focused: !!window && !window.isDestroyed() && window.isFocused(),
    }),
    viewing: () => core.viewing,
    avatar: async (imageId) => {
      const media = await core.call('media.get', { imageId, size: 'avatar' })
      if (!media.ok) return null
      // nativeImage decodes PNG and JPEG; a picture it cannot read comes back empty: no icon then.
      const image = nativeImage.createFromBuffer(Buffer.from(media.value.dataBase64, 'base64'))
      return image.isEmpty() ? null : image
    },
    open: (conversation, localId) => {
      showWindow()
      core.openConversation(conversation, localId)
    },
    reply: async (conversation, text) => {
      const sent = await core.call('messages.send', { conversation, text })
      if (!sent.ok) return log('the reply was not sent', sent.error.message)
      // Answering is reading.
      await core.call('messages.markRead', { conversation })
    },
    ...(platform === 'darwin' && { removeGroup: (groupId: string) => Notification.removeGroup(groupId) }),
  })

  registerBridge({ ipcMain, core, contents, onCall: () => links.ready() })
  core.on('messages.received', (event) => {
    notifier.received(event).catch((error) => log('notification failed', error))
  })
  core.on('unread.changed', (counts: UnreadCounts) => {
    applyUnread(counts.total)
    notifier.unreadChanged(counts)
  })
  core.on('session.changed', ({ session: signedIn }) => {
    if (!signedIn) {
      applyUnread(0)
      notifier.dispose()
    }
  })
  const unread = await core.call('unread.get', {})
  if (unread.ok) applyUnread(unread.value.total)

  app.on('activate', showWindow)
  window = createWindow()

  return {
    showWindow,
    openConversation: (conversation) => {
      showWindow()
      core.openConversation(conversation)
    },
    openJoin: (code) => {
      showWindow()
      core.openJoin(code)
    },
  }
}

function createNotification(spec: NotificationSpec<NativeImage>): NotificationHandle {
  if (!Notification.isSupported()) {
    const nothing = () => undefined
    return { show: nothing, close: nothing, onClick: nothing, onReply: nothing, onClose: nothing }
  }
  const notification = new Notification({
    title: spec.title,
    body: spec.body,
    silent: spec.silent,
    ...(spec.icon && { icon: spec.icon }),
    hasReply: spec.hasReply,
    ...(spec.replyPlaceholder && { replyPlaceholder: spec.replyPlaceholder }),
    ...(platform !== 'linux' && { groupId: spec.groupId }),
  })
  return {
    show: () => notification.show(),
    close: () => notification.close(),
    onClick: (listener) => notification.on('click', () => listener()),
    onReply: (listener) =>
      notification.on('reply', (details, reply) => listener(details?.reply ?? reply ?? '')),
    onClose: (listener) => notification.on('close', () => listener()),
  }
}
