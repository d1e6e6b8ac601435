import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { bridgeChannels, type Result } from '@parley/shared'
import { afterAll, describe, expect, it, vi } from 'vitest'
import {
  CONTENT_SECURITY_POLICY,
  createAppProtocolHandler,
  RENDERER_URL,
  resolveAppPath,
} from '../../src/main/app-protocol'
import { type InvokeEvent, isAppUrl, isTrustedSender, registerBridge } from '../../src/main/ipc/bridge'
import {
  allowPermission,
  type HardenedContents,
  hardenContents,
  hardenSession,
  isSafeExternalUrl,
  secureWebPreferences,
} from '../../src/main/security'

function fakeContents() {
  return { destroyed: false, sent: [] as unknown[][], isDestroyed: () => false, send: vi.fn() }
}

function fakeIpcMain() {
  const handlers = new Map<string, (event: InvokeEvent, ...args: unknown[]) => unknown>()
  return {
    handlers,
    handle: (channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => unknown) => {
      handlers.set(channel, listener)
    },
    removeHandler: (channel: string) => {
      handlers.delete(channel)
    },
  }
}

function fakeCore() {
  const listeners = new Set<(event: string, payload: unknown) => void>()
  return {
    invoke: vi.fn(
      async (method: unknown, params: unknown): Promise<Result<unknown>> => ({
        ok: true,
        value: { method, params },
      }),
    ),
    onAny: (listener: (event: never, payload: never) => void) => {
      const l = listener as unknown as (event: string, payload: unknown) => void
      listeners.add(l)
      return () => listeners.delete(l)
    },
    emit: (event: string, payload: unknown) => {
      for (const l of listeners) l(event, payload)
    },
  }
}

const topFrame = (url = RENDERER_URL) => ({ url, parent: null })

describe('IPC sender guard', () => {
  const contents = fakeContents()

  it('trusts only our window, its top frame, on app://parley', () => {
    expect(isTrustedSender({ sender: contents, senderFrame: topFrame() }, contents)).toBe(true)
    expect(isTrustedSender({ sender: contents, senderFrame: topFrame('app://parley/') }, contents)).toBe(true)
    // another webContents
    expect(isTrustedSender({ sender: fakeContents(), senderFrame: topFrame() }, contents)).toBe(false)
    // a subframe of our window
    expect(
      isTrustedSender({ sender: contents, senderFrame: { url: RENDERER_URL, parent: {} } }, contents),
    ).toBe(false)
    // our window after it was navigated elsewhere
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'app://other/index.html',
      'about:blank',
    ]) {
      expect(isTrustedSender({ sender: contents, senderFrame: topFrame(url) }, contents)).toBe(false)
    }
    // a frame that is gone, and no window at all
    expect(isTrustedSender({ sender: contents, senderFrame: null }, contents)).toBe(false)
    expect(isTrustedSender({ sender: contents, senderFrame: topFrame() }, null)).toBe(false)
    expect(
      isTrustedSender(
        { sender: contents, senderFrame: topFrame() },
        { ...contents, isDestroyed: () => true },
      ),
    ).toBe(false)
  })

  it('app URLs are exactly app://parley', () => {
    expect(isAppUrl('app://parley/index.html')).toBe(true)
    expect(isAppUrl('app://parley.evil/index.html')).toBe(false)
    expect(isAppUrl('app://x@parley/index.html')).toBe(false)
    expect(isAppUrl('not a url')).toBe(false)
  })
})

describe('IPC bridge', () => {
  function setup() {
    const ipcMain = fakeIpcMain()
    const core = fakeCore()
    const contents = fakeContents()
    const onCall = vi.fn()
    const dispose = registerBridge({ ipcMain, core, contents: () => contents, onCall })
    const handler = ipcMain.handlers.get(bridgeChannels.invoke)
    if (!handler) throw new Error('no invoke handler')
    return { ipcMain, core, contents, onCall, dispose, handler }
  }

  it('forwards a trusted call with a known method to the core, which validates the params', async () => {
    const { core, contents, handler, onCall } = setup()
    const result = await handler({ sender: contents, senderFrame: topFrame() }, 'unread.get', {})
    expect(result).toEqual({ ok: true, value: { method: 'unread.get', params: {} } })
    expect(core.invoke).toHaveBeenCalledWith('unread.get', {})
    expect(onCall).toHaveBeenCalledOnce()
  })

  it('refuses an untrusted sender without reaching the core', async () => {
    const { core, handler } = setup()
    const result = await handler({ sender: fakeContents(), senderFrame: topFrame() }, 'unread.get', {})
    expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    expect(core.invoke).not.toHaveBeenCalled()
  })

  it.each([['no.such'], ['__proto__'], ['constructor'], [42], [null]])(
    'refuses the method name %s without reaching the core',
    async (method) => {
      const { core, contents, handler } = setup()
      const result = await handler({ sender: contents, senderFrame: topFrame() }, method, {})
      expect(result).toMatchObject({ ok: false, error: { code: 'unknown_method' } })
      expect(core.invoke).not.toHaveBeenCalled()
    },
  )

  it('pushes every core event to the window on the event channel, and stops when disposed', () => {
    const { core, contents, dispose, ipcMain } = setup()
    core.emit('unread.changed', { total: 1, conversations: [] })
    expect(contents.send).toHaveBeenCalledWith(bridgeChannels.event, 'unread.changed', {
      total: 1,
      conversations: [],
    })
    dispose()
    core.emit('unread.changed', { total: 2, conversations: [] })
    expect(contents.send).toHaveBeenCalledTimes(1)
    expect(ipcMain.handlers.size).toBe(0)
  })
})

describe('navigation, windows, links and permissions', () => {
  it('webPreferences follow the security checklist', () => {
    expect(secureWebPreferences('/app/out/preload/index.cjs')).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    })
  })

  it('only http(s) links without credentials go to the system browser', () => {
    expect(isSafeExternalUrl('https://example.org/a?b#c')).toBe(true)
    expect(isSafeExternalUrl('http://example.org')).toBe(true)
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://host/share',
      'ms-msdt:/id',
      'https://user:pw@example.org',
      'app://parley/index.html',
      `https://example.org/${'a'.repeat(3000)}`,
      'not a url',
      42,
    ]) {
      expect(isSafeExternalUrl(url)).toBe(false)
    }
  })

  it('navigation is denied (links open outside), new windows denied, webviews refused', () => {
    const listeners = new Map<string, (event: never) => void>()
    let openHandler: ((details: { url: string }) => { action: 'deny' }) | undefined
    const contents = {
      on: (event: string, listener: (event: never) => void) => {
        listeners.set(event, listener)
      },
      setWindowOpenHandler: (handler: (details: { url: string }) => { action: 'deny' }) => {
        openHandler = handler
      },
    } as unknown as HardenedContents
    const openExternal = vi.fn()
    hardenContents(contents, openExternal)
    const navigate = (event: string, url: string) => {
      const preventDefault = vi.fn()
      listeners.get(event)?.({ url, preventDefault } as never)
      return preventDefault
    }
    expect(navigate('will-navigate', 'https://example.org/')).toHaveBeenCalled()
    expect(navigate('will-navigate', 'file:///etc/passwd')).toHaveBeenCalled()
    expect(navigate('will-navigate', 'app://parley/index.html')).toHaveBeenCalled()
    expect(navigate('will-redirect', 'https://example.org/')).toHaveBeenCalled()
    expect(navigate('will-redirect', 'app://parley/index.html')).not.toHaveBeenCalled()
    expect(navigate('will-attach-webview', 'https://example.org/')).toHaveBeenCalled()
    expect(openHandler?.({ url: 'https://example.org/x' })).toEqual({ action: 'deny' })
    expect(openHandler?.({ url: 'file:///c:/windows/system32/calc.exe' })).toEqual({ action: 'deny' })
    expect(openExternal.mock.calls).toEqual([['https://example.org/'], ['https://example.org/x']])
  })

  it('permissions: notifications, clipboard writes and the microphone (audio only) for our page only; camera, geolocation, clipboard reads and the rest refused', () => {
    expect(allowPermission('notifications', 'app://parley/index.html')).toBe(true)
    expect(allowPermission('notifications', 'app://parley')).toBe(true)
    expect(allowPermission('notifications', 'https://evil.example')).toBe(false)
    expect(allowPermission('notifications', undefined)).toBe(false)
    expect(allowPermission('clipboard-sanitized-write', 'app://parley/index.html')).toBe(true)
    expect(allowPermission('clipboard-sanitized-write', 'https://evil.example')).toBe(false)
    // The microphone, for voice messages: audio only, our page only.
    expect(allowPermission('media', 'app://parley/index.html', { mediaTypes: ['audio'] })).toBe(true)
    expect(allowPermission('media', 'app://parley', { mediaType: 'audio' })).toBe(true)
    expect(allowPermission('media', 'app://parley/index.html', { mediaTypes: ['audio', 'video'] })).toBe(
      false,
    )
    expect(allowPermission('media', 'app://parley/index.html', { mediaTypes: ['video'] })).toBe(false)
    expect(allowPermission('media', 'app://parley', { mediaType: 'video' })).toBe(false)
    expect(allowPermission('media', 'app://parley', { mediaType: 'unknown' })).toBe(false)
    expect(allowPermission('media', 'app://parley/index.html', { mediaTypes: [] })).toBe(false)
    expect(allowPermission('media', 'https://evil.example', { mediaTypes: ['audio'] })).toBe(false)
    expect(allowPermission('media', undefined, { mediaTypes: ['audio'] })).toBe(false)
    expect(allowPermission('display-capture', 'app://parley/index.html', { mediaTypes: ['audio'] })).toBe(
      false,
    )
    for (const permission of ['media', 'geolocation', 'clipboard-read', 'openExternal', 'hid', 'unknown']) {
      expect(allowPermission(permission, 'app://parley/index.html')).toBe(false)
    }
    const granted: boolean[] = []
    const session = {
      request: undefined as
        | undefined
        | ((
            c: unknown,
            p: string,
            cb: (g: boolean) => void,
            d: { requestingUrl?: string; mediaTypes?: string[] },
          ) => void),
      check: undefined as
        | undefined
        | ((c: unknown, p: string, o: string, d: { mediaType?: string }) => boolean),
      device: undefined as undefined | (() => boolean),
    }
    hardenSession({
      setPermissionRequestHandler: (h) => {
        session.request = h
      },
      setPermissionCheckHandler: (h) => {
        session.check = h
      },
      setDevicePermissionHandler: (h) => {
        session.device = h
      },
    })
    session.request?.(null, 'media', (g) => granted.push(g), { requestingUrl: 'app://parley/index.html' })
    session.request?.(null, 'notifications', (g) => granted.push(g), {
      requestingUrl: 'app://parley/index.html',
    })
    session.request?.(null, 'media', (g) => granted.push(g), {
      requestingUrl: 'app://parley/index.html',
      mediaTypes: ['audio'],
    })
    session.request?.(null, 'media', (g) => granted.push(g), {
      requestingUrl: 'app://parley/index.html',
      mediaTypes: ['audio', 'video'],
    })
    session.request?.(null, 'media', (g) => granted.push(g), {
      requestingUrl: 'https://evil.example/',
      mediaTypes: ['audio'],
    })
    expect(granted).toEqual([false, true, true, false, false])
    expect(session.check?.(null, 'geolocation', 'app://parley', {})).toBe(false)
    expect(session.check?.(null, 'media', 'app://parley', { mediaType: 'audio' })).toBe(true)
    expect(session.check?.(null, 'media', 'app://parley', { mediaType: 'video' })).toBe(false)
    expect(session.check?.(null, 'media', 'https://evil.example', { mediaType: 'audio' })).toBe(false)
    expect(session.device?.()).toBe(false)
  })
})

describe('app:// protocol', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'parley-renderer-'))
  mkdirSync(path.join(root, 'assets'))
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Parley</title>')
  writeFileSync(path.join(root, 'assets', 'data.json'), '{"emoji":[]}')
  writeFileSync(path.join(path.dirname(root), 'secret.txt'), 'secret')
  afterAll(() => rmSync(root, { recursive: true, force: true }))
  const handler = createAppProtocolHandler(root)

  it('serves the renderer with the CSP (no unsafe-eval) and nosniff on every response', async () => {
    const page = await handler(new Request('app://parley/index.html'))
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<title>Parley</title>')
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toBe(CONTENT_SECURITY_POLICY)
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).toMatch(/script-src 'self'(;|$)/)
    expect(csp).toContain("object-src 'none'")
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    const data = await handler(new Request('app://parley/assets/data.json'))
    expect(data.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await data.json()).toEqual({ emoji: [] })
    const home = await handler(new Request('app://parley/'))
    expect(await home.text()).toContain('Parley')
  })

  it('never leaves the renderer folder, and answers nothing but GET and HEAD', async () => {
    for (const url of [
      'app://parley/../secret.txt',
      'app://parley/%2e%2e/secret.txt',
      'app://parley/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      'app://parley/..%5csecret.txt',
      'app://parley/index.html%00.png',
      'app://parley/missing.js',
      'app://parley/assets',
      'app://other/index.html',
    ]) {
      const response = await handler(new Request(url))
      expect(response.status, url).toBe(404)
      expect(await response.text()).not.toContain('secret')
    }
    expect(resolveAppPath(root, 'app://parley/assets/data.json')).toBe(path.join(root, 'assets', 'data.json'))
    // The URL parser folds `..` segments away (encoded too); whatever is left must stay inside.
    for (const url of ['app://parley/%2e%2e/secret.txt', 'app://parley/a/../../../secret.txt']) {
      const file = resolveAppPath(root, url)
      expect(file === null || file.startsWith(`${root}${path.sep}`), url).toBe(true)
    }
    expect(resolveAppPath(root, 'app://parley/..%5csecret.txt')).toBeNull()
    const post = await handler(new Request('app://parley/index.html', { method: 'POST', body: 'x' }))
    expect(post.status).toBe(405)
  })
})
