import { execFile } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import vm from 'node:vm'
import { bridgeChannels } from '@parley/shared'
import { build } from 'electron-vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * Builds the app with electron-vite (electron.vite.config.ts, into a temporary folder) and checks the
 * bundles themselves: the preload exposes only the allowlist, and the main bundle, started against a
 * fake `electron` module, opens a sandboxed window on app://parley with the CSP, guards its IPC and
 * quits through the core. Electron's binary cannot run here; this is the closest to it.
 */
const repo = path.resolve(import.meta.dirname, '../../..')
const fixtures = path.join(import.meta.dirname, 'fixtures')
let dir: string
let out: string

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parley-electron-build-'))
  out = path.join(dir, 'out')
  await build({
    root: repo,
    configFile: path.join(repo, 'electron.vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: out, emptyOutDir: true },
  })
}, 120_000)
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('electron-vite build', () => {
  it('writes main (ESM), preload (one CommonJS file) and the renderer', () => {
    expect(existsSync(path.join(out, 'main', 'index.js'))).toBe(true)
    expect(existsSync(path.join(out, 'preload', 'index.cjs'))).toBe(true)
    expect(existsSync(path.join(out, 'renderer', 'index.html'))).toBe(true)
    const main = readFileSync(path.join(out, 'main', 'index.js'), 'utf8')
    // The store's SQLite stays a real module (its addon is unpacked from the asar); the rest is bundled.
    expect(main).toMatch(/^import \w+ from "better-sqlite3-multiple-ciphers";$/m)
    expect(main).not.toMatch(/from "better-sqlite3"/)
    expect(main).not.toMatch(/from "(kysely|ajv|socket\.io-client|typebox|@parley\/shared)"/)
  })

  it('the renderer keeps a CSP without unsafe-eval in its page', () => {
    const html = readFileSync(path.join(out, 'renderer', 'index.html'), 'utf8')
    const csp = html.match(/http-equiv="Content-Security-Policy"\s+content="([^"]+)"/)?.[1]
    expect(csp).toBeDefined()
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).toMatch(/script-src 'self'(;|$)/)
    // Relative asset paths: the page is served from app://parley/, not from a web root.
    expect(html).toMatch(/src="\.\/assets\//)
  })
})

describe('preload bundle', () => {
  /** Runs the preload as Electron's sandbox does: a script with a `require` that knows 'electron'. */
  function loadPreload() {
    const code = readFileSync(path.join(out, 'preload', 'index.cjs'), 'utf8')
    const exposed: Array<[string, unknown]> = []
    const subscribed: string[] = []
    const invoked: unknown[][] = []
    const required: string[] = []
    let deliver: ((event: unknown, ...args: unknown[]) => void) | undefined
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push([key, api]) },
      ipcRenderer: {
        on: (channel: string, listener: (event: unknown, ...args: unknown[]) => void) => {
          subscribed.push(channel)
          deliver = listener
        },
        invoke: async (...args: unknown[]) => {
          invoked.push(args)
          return { ok: true, value: null }
        },
        send: () => {
          throw new Error('the preload must not send')
        },
      },
    }
    const module = { exports: {} }
    const require = (name: string) => {
      required.push(name)
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require ${name}`)
      return electron
    }
    // No process, Buffer or global: a bundle that needs them would fail here as in the sandbox.
    vm.runInNewContext(`(function (require, module, exports) {${code}\n})`, { console })(
      require,
      module,
      module.exports,
    )
    return { exposed, subscribed, invoked, required, deliver: (...args: unknown[]) => deliver?.({}, ...args) }
  }

  it('exposes exactly window.parley = {invoke, on}, frozen, and requires only electron', () => {
    const { exposed, required } = loadPreload()
    expect(exposed.map(([key]) => key)).toEqual(['parley'])
    const api = exposed[0]?.[1] as Record<string, unknown>
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on'])
    expect(Object.isFrozen(api)).toBe(true)
    expect(required).toEqual(['electron'])
  })

  it('uses only the two bridge channels, and hands listeners the payload, never the IPC event', async () => {
    const { exposed, subscribed, invoked, deliver } = loadPreload()
    expect(subscribed).toEqual([bridgeChannels.event])
    const api = exposed[0]?.[1] as {
      invoke(method: string, params: unknown): Promise<unknown>
      on(event: string, listener: (...args: unknown[]) => void): () => void
    }
    await api.invoke('unread.get', {})
    expect(invoked).toEqual([[bridgeChannels.invoke, 'unread.get', {}]])

    const got: unknown[][] = []
    const off = api.on('unread.changed', (...args) => got.push(args))
    api.on('messages.changed', () => got.push(['wrong event']))
    deliver('unread.changed', { total: 2, conversations: [] })
    expect(got).toEqual([[{ total: 2, conversations: [] }]])
    off()
    deliver('unread.changed', { total: 3, conversations: [] })
    expect(got).toHaveLength(1)
  })
})

describe('main bundle against a fake electron', () => {
  interface Report {
    sandboxEnabledBeforeReady: boolean
    privilegedSchemes: Array<{ scheme: string; privileges: Record<string, boolean> }>
    spellcheck: { enabled: boolean | null; dictionaryUrl: string | null }
    windowOptions: { webPreferences: Record<string, unknown>; show: boolean }
    loadedUrl: string
    page: { status: number; csp: string | null; body: string }
    ipc: Record<string, { ok: boolean; value?: Record<string, unknown>; error?: { code: string } }>
    eventsSent: Array<{ channel: string; event: string; payload: unknown }>
    navigation: { prevented: boolean; windowOpen: unknown; openedExternally: string[] }
    permissions: Array<[string, boolean]>
    tray: { toolTip: string; menu: string[] }
    applicationMenu: string[]
    closeToTray: { prevented: boolean; visibleAfter: boolean }
    quit: { heldAtFirst: boolean; requests: number; exited: boolean }
  }
  let report: Report

  beforeAll(async () => {
    // The bundle resolves `electron` and the store's SQLite from next to it, as it would in the asar.
    const electronDir = path.join(dir, 'node_modules', 'electron')
    mkdirSync(electronDir, { recursive: true })
    copyFileSync(path.join(fixtures, 'fake-electron.mjs'), path.join(electronDir, 'index.mjs'))
    writeFileSync(
      path.join(electronDir, 'package.json'),
      JSON.stringify({ name: 'electron', type: 'module', exports: './index.mjs' }),
    )
    symlinkSync(
      path.join(repo, 'node_modules', 'better-sqlite3-multiple-ciphers'),
      path.join(dir, 'node_modules', 'better-sqlite3-multiple-ciphers'),
    )
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        path.join(fixtures, 'main-harness.mjs'),
        path.join(out, 'main', 'index.js'),
        'parley://conversation/42',
      ],
      {
        cwd: dir,
        timeout: 30_000,
        env: {
          ...process.env,
          FAKE_ELECTRON_DATA: path.join(dir, 'data'),
          FAKE_ELECTRON_APP_PATH: path.join(repo, 'desktop'),
          PARLEY_DATA_DIR: '',
        },
      },
    )
    const line = stdout.split('\n').find((l) => l.startsWith('HARNESS '))
    if (!line) throw new Error(`the harness printed no report:\n${stdout}`)
    report = JSON.parse(line.slice('HARNESS '.length)) as Report
  }, 60_000)

  it('spellchecks without downloading dictionaries from Google', () => {
    expect(report.spellcheck).toEqual({ enabled: true, dictionaryUrl: 'http://127.0.0.1:9/' })
  })

  it('opens a sandboxed, context-isolated window without node, on app://parley', () => {
    expect(report.sandboxEnabledBeforeReady).toBe(true)
    const prefs = report.windowOptions.webPreferences
    expect(prefs).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false })
    expect(prefs.webSecurity).not.toBe(false)
    expect(prefs.allowRunningInsecureContent).not.toBe(true)
    expect(prefs.webviewTag).not.toBe(true)
    expect(String(prefs.preload)).toBe(path.join(out, 'preload', 'index.cjs'))
    expect(report.windowOptions.show).toBe(false)
    expect(report.loadedUrl).toBe('app://parley/index.html')
    expect(report.privilegedSchemes).toEqual([
      { scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) },
    ])
    expect(report.privilegedSchemes[0]?.privileges.bypassCSP).toBeUndefined()
  })

  it('serves the built renderer with a CSP header without unsafe-eval', () => {
    expect(report.page.status).toBe(200)
    expect(report.page.body).toContain('<div id="app"></div>')
    expect(report.page.csp).toBeTruthy()
    expect(report.page.csp).not.toContain('unsafe-eval')
    expect(report.page.csp).not.toMatch(/script-src[^;]*unsafe-inline/)
  })

  it('IPC: our page reaches the core; bad params, unknown methods and other senders are refused', () => {
    expect(report.ipc.trusted).toMatchObject({
      ok: true,
      value: { shell: 'electron', version: '0.0.0-test' },
    })
    expect(report.ipc.invalidParams).toMatchObject({ ok: false, error: { code: 'invalid_params' } })
    expect(report.ipc.unknownMethod).toMatchObject({ ok: false, error: { code: 'unknown_method' } })
    for (const refused of ['otherSender', 'subframe', 'navigatedAway']) {
      expect(report.ipc[refused], refused).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    }
  })

  it('deep links from the command line and from a second launch open conversations and the join screen', () => {
    const opened = report.eventsSent.filter(
      (e) => e.event === 'app.openConversation' || e.event === 'app.openJoin',
    )
    expect(opened).toEqual([
      { channel: bridgeChannels.event, event: 'app.openConversation', payload: { conversation: 'dm:42' } },
      { channel: bridgeChannels.event, event: 'app.openConversation', payload: { conversation: 'dm:43' } },
      { channel: bridgeChannels.event, event: 'app.openJoin', payload: { code: 'Jn4k2Qw8Zr5Tx7Lm9Pv3Hy' } },
    ])
  })

  it('denies navigation and new windows (http links go to the browser) and all permissions but notifications', () => {
    expect(report.navigation).toEqual({
      prevented: true,
      windowOpen: { action: 'deny' },
      openedExternally: ['https://example.org/page'],
    })
    expect(report.permissions).toEqual([
      ['media', false],
      ['geolocation', false],
      ['notifications', true],
    ])
  })

  it('has a tray menu and an application menu', () => {
    expect(report.tray).toEqual({
      toolTip: 'Parley',
      menu: ['open', 'separator', 'mute', 'separator', 'quit'],
    })
    expect(report.applicationMenu).toEqual(['File', 'Edit', 'View', 'windowMenu'])
  })

  it('closing the window hides it to the tray; quitting waits for the core, then quits', () => {
    expect(report.closeToTray).toEqual({ prevented: true, visibleAfter: false })
    expect(report.quit).toEqual({ heldAtFirst: true, requests: 2, exited: true })
  })
})
