import { EventEmitter } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type BridgeEvent, defaultSettings, type Result, type Settings } from '@parley/shared'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { guardWindowClose, QuitController } from '../../src/main/lifecycle'
import {
  AUTOSTART_FILE,
  applyStartAtLogin,
  autostartEntry,
  quoteExecArgument,
} from '../../src/main/login-item'
import { SettingsWatch } from '../../src/main/settings-watch'
import { type SafeStorageLike, SEALED_PREFIX, safeStorageCipher } from '../../src/main/token-cipher'

/** An `app` whose quit() emits before-quit like Electron's, and which records whether it really quit. */
function fakeApp() {
  const app = Object.assign(new EventEmitter(), {
    quitCalls: 0,
    exited: false,
    quit() {
      app.quitCalls += 1
      let prevented = false
      app.emit('before-quit', { preventDefault: () => (prevented = true) })
      if (!prevented) app.exited = true
    },
  })
  return app
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('quitting', () => {
  it('the first quit waits for the core to close, then the app quits', async () => {
    const app = fakeApp()
    let finishClose: () => void = () => undefined
    const closeCore = vi.fn(() => new Promise<void>((resolve) => (finishClose = resolve)))
    const quitter = new QuitController({ app, closeCore })
    quitter.quit()
    expect(quitter.quitting).toBe(true)
    await flush()
    expect(closeCore).toHaveBeenCalledOnce()
    expect(app.exited).toBe(false)
    // Quit asked again meanwhile (tray, then Cmd+Q): still one close.
    app.quit()
    await flush()
    expect(closeCore).toHaveBeenCalledOnce()
    expect(app.exited).toBe(false)
    finishClose()
    await flush()
    expect(app.exited).toBe(true)
  })

  it('a core that fails or hangs while closing does not keep the app alive', async () => {
    const app = fakeApp()
    const errors: unknown[] = []
    const quitter = new QuitController({
      app,
      closeCore: () => Promise.reject(new Error('disk gone')),
      onError: (e) => errors.push(e),
    })
    quitter.quit()
    await flush()
    expect(app.exited).toBe(true)
    expect(String(errors[0])).toContain('disk gone')

    const hung = fakeApp()
    const slow = new QuitController({
      app: hung,
      closeCore: () => new Promise(() => undefined),
      timeoutMs: 20,
    })
    slow.quit()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(hung.exited).toBe(true)
  })

  it('an OS shutdown closes the core once even if a quit follows', async () => {
    const app = fakeApp()
    const closeCore = vi.fn(async () => undefined)
    const quitter = new QuitController({ app, closeCore })
    await quitter.closeCore()
    quitter.quit()
    await flush()
    expect(closeCore).toHaveBeenCalledOnce()
    expect(app.exited).toBe(true)
  })

  it('closing the window hides it with close-to-tray (and always on macOS), unless quitting', () => {
    const close = (options: { platform: NodeJS.Platform; closeToTray: boolean; quitting: boolean }) => {
      const window = Object.assign(new EventEmitter(), { hide: vi.fn() })
      guardWindowClose(window, {
        platform: options.platform,
        closeToTray: () => options.closeToTray,
        quitting: () => options.quitting,
      })
      const preventDefault = vi.fn()
      window.emit('close', { preventDefault })
      return {
        hidden: window.hide.mock.calls.length === 1,
        prevented: preventDefault.mock.calls.length === 1,
      }
    }
    expect(close({ platform: 'linux', closeToTray: true, quitting: false })).toEqual({
      hidden: true,
      prevented: true,
    })
    expect(close({ platform: 'win32', closeToTray: false, quitting: false })).toEqual({
      hidden: false,
      prevented: false,
    })
    expect(close({ platform: 'darwin', closeToTray: false, quitting: false })).toEqual({
      hidden: true,
      prevented: true,
    })
    expect(close({ platform: 'linux', closeToTray: true, quitting: true })).toEqual({
      hidden: false,
      prevented: false,
    })
  })
})

describe('start at login', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-autostart-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('macOS and Windows use the login item API (Windows starts hidden in the tray)', () => {
    const setLoginItemSettings = vi.fn()
    const target = { setLoginItemSettings, autostartDir: dir, executable: '/x' }
    applyStartAtLogin(true, { ...target, platform: 'darwin' })
    applyStartAtLogin(false, { ...target, platform: 'win32' })
    expect(setLoginItemSettings.mock.calls).toEqual([
      [{ openAtLogin: true }],
      [{ openAtLogin: false, args: ['--hidden'] }],
    ])
  })

  it('Linux writes and removes an XDG autostart entry', () => {
    const target = {
      platform: 'linux' as const,
      setLoginItemSettings: vi.fn(),
      autostartDir: path.join(dir, 'autostart'),
      executable: '/home/ada/Apps/Parley 1.0.AppImage',
    }
    const file = path.join(target.autostartDir, AUTOSTART_FILE)
    applyStartAtLogin(true, target)
    expect(readFileSync(file, 'utf8')).toContain('Exec="/home/ada/Apps/Parley 1.0.AppImage" --hidden')
    applyStartAtLogin(false, target)
    expect(existsSync(file)).toBe(false)
    applyStartAtLogin(false, target)
    expect(target.setLoginItemSettings).not.toHaveBeenCalled()
  })

  it('quotes Exec arguments as the desktop entry spec says', () => {
    expect(quoteExecArgument('/opt/Parley/parley')).toBe('/opt/Parley/parley')
    expect(quoteExecArgument('/a b/"c"$d`e\\f')).toBe('"/a b/\\"c\\"\\$d\\`e\\\\f"')
    expect(autostartEntry('/opt/Parley/parley')).toMatch(/^\[Desktop Entry\]\n/)
  })
})

describe('session token sealed with safeStorage', () => {
  function fakeSafeStorage(available: boolean): SafeStorageLike & { calls: string[] } {
    const calls: string[] = []
    return {
      calls,
      isAsyncEncryptionAvailable: async () => available,
      encryptStringAsync: async (plain) => {
        calls.push('encrypt')
        return Buffer.from(`k(${plain})`)
      },
      decryptStringAsync: async (sealed) => {
        calls.push('decrypt')
        const text = sealed.toString()
        if (!text.startsWith('k(')) throw new Error('Error while decrypting the ciphertext')
        return { result: text.slice(2, -1), shouldReEncrypt: false }
      },
    }
  }

  it('seals with the keychain and opens what it sealed', async () => {
    const storage = fakeSafeStorage(true)
    const cipher = safeStorageCipher(storage)
    const stored = await cipher.encrypt('tok_123')
    expect(stored.startsWith(SEALED_PREFIX)).toBe(true)
    expect(stored).not.toContain('tok_123')
    expect(await cipher.decrypt(stored)).toBe('tok_123')
  })

  it('a sealed token the keychain cannot open throws (the core then starts signed out)', async () => {
    const cipher = safeStorageCipher(fakeSafeStorage(true))
    await expect(
      cipher.decrypt(`${SEALED_PREFIX}${Buffer.from('garbage').toString('base64')}`),
    ).rejects.toThrow()
  })

  it('without a keychain the token is stored as is, and said so', async () => {
    const storage = fakeSafeStorage(false)
    const unavailable = vi.fn()
    const cipher = safeStorageCipher(storage, unavailable)
    expect(await cipher.encrypt('tok_123')).toBe('tok_123')
    expect(unavailable).toHaveBeenCalledOnce()
    expect(await cipher.decrypt('tok_123')).toBe('tok_123')
    expect(storage.calls).toEqual([])
  })
})

describe('settings the shell follows', () => {
  function fakeSource(initial: Settings) {
    const listeners = new Map<string, Set<(payload: never) => void>>()
    let stored = initial
    return {
      set: (next: Settings) => {
        stored = next
      },
      emit: (event: BridgeEvent, payload: unknown) => {
        for (const l of listeners.get(event) ?? []) l(payload as never)
      },
      invoke: vi.fn(async (): Promise<Result<unknown>> => ({ ok: true, value: stored })),
      on: (event: BridgeEvent, listener: (payload: never) => void) => {
        const set = listeners.get(event) ?? new Set()
        set.add(listener)
        listeners.set(event, set)
        return () => set.delete(listener)
      },
    }
  }

  it('reads them at start, follows settings.changed, and rereads them when the account changes', async () => {
    const source = fakeSource({ ...defaultSettings, closeToTray: false })
    const changes: Array<[boolean, boolean]> = []
    const watch = new SettingsWatch(source, (next, previous) =>
      changes.push([previous.closeToTray, next.closeToTray]),
    )
    expect(watch.current.closeToTray).toBe(true)
    await watch.refresh()
    expect(watch.current.closeToTray).toBe(false)
    source.emit('settings.changed', { ...defaultSettings, closeToTray: true, startAtLogin: true })
    expect(watch.current).toMatchObject({ closeToTray: true, startAtLogin: true })
    source.set({ ...defaultSettings })
    source.emit('session.changed', { session: null, reason: 'signed_out' })
    await flush()
    expect(watch.current).toEqual(defaultSettings)
    expect(changes).toEqual([
      [true, false],
      [false, true],
      [true, true],
    ])
    watch.dispose()
    source.emit('settings.changed', { ...defaultSettings, closeToTray: false })
    expect(watch.current.closeToTray).toBe(true)
  })

  it('a settings.changed that arrives while a read is under way wins over the older read', async () => {
    const source = fakeSource({ ...defaultSettings, theme: 'light' })
    const watch = new SettingsWatch(source, () => undefined)
    const reading = watch.refresh()
    source.emit('settings.changed', { ...defaultSettings, theme: 'dark' })
    await reading
    expect(watch.current.theme).toBe('dark')
  })
})
