import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Plugin, UserConfig } from 'vite'
import { afterAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../src/core/logger'
import { startHost } from '../src/host/server'
import { securityHeaders } from '../src/main/app-protocol'
import { fastTiming } from './helpers/core'

/** A policy as its directives, each with its sources in order. */
function directives(policy: string): Map<string, string[]> {
  const map = new Map<string, string[]>()
  for (const part of policy.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name) map.set(name, sources)
  }
  return map
}

/** The page's own CSP: the browser-mode build's index.html, as its Vite config writes it. */
async function metaPolicy(): Promise<string> {
  // Loaded at run time: the config is Vite's to compile, not part of this TypeScript project.
  const configFile = pathToFileURL(path.join(import.meta.dirname, '../vite.config.ts')).href
  const config = ((await import(configFile)) as { default: UserConfig }).default
  const plugins: unknown[] = (config.plugins ?? []).flat()
  const plugin = plugins.find(
    (p): p is Plugin => typeof p === 'object' && p !== null && (p as Plugin).name === 'parley-csp-meta',
  )
  expect(plugin, 'the browser build writes the CSP meta tag').toBeDefined()
  const source = readFileSync(path.join(import.meta.dirname, '../src/renderer/index.html'), 'utf8')
  const hook = plugin!.transformIndexHtml as (html: string) => string
  const html = hook(source)
  const policy = html.match(/http-equiv="Content-Security-Policy"\s+content="([^"]+)"/)?.[1]
  expect(policy).toBeDefined()
  return policy!
}

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function hostPolicy(): Promise<{ policy: string; port: number }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-csp-'))
  dirs.push(dataDir)
  const rendererDir = path.join(dataDir, 'renderer')
  mkdirSync(rendererDir)
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Parley</title>')
  const host = await startHost({ dataDir, rendererDir, logger: silentLogger, timing: fastTiming })
  try {
    const page = await fetch(host.url)
    return { policy: page.headers.get('content-security-policy') ?? '', port: host.port }
  } finally {
    await host.close()
  }
}

describe('the renderer has one Content-Security-Policy', () => {
  it('the app:// header, the browser-mode host and the page meta tag agree but for where the page may connect', async () => {
    const app = directives(securityHeaders('text/html')['content-security-policy'] ?? '')
    const host = await hostPolicy()
    const browser = directives(host.policy)
    expect([...browser.keys()]).toEqual([...app.keys()])
    for (const [name, sources] of app)
      if (name !== 'connect-src') expect(browser.get(name), name).toEqual(sources)

    // Browsers ignore frame-ancestors in a meta tag: only the headers carry it.
    const meta = directives(await metaPolicy())
    expect(app.get('frame-ancestors')).toEqual(["'none'"])
    expect([...meta.keys()]).toEqual([...app.keys()].filter((name) => name !== 'frame-ancestors'))
    for (const [name, sources] of meta)
      if (name !== 'connect-src') expect(sources, name).toEqual(app.get(name))

    // Electron's page talks to the core through the preload; browser mode's through its host only.
    expect(app.get('connect-src')).toEqual(["'self'"])
    expect(browser.get('connect-src')).toEqual([
      "'self'",
      `ws://127.0.0.1:${host.port}`,
      `ws://localhost:${host.port}`,
    ])
    expect(meta.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:*', 'ws://localhost:*'])
    for (const policy of [app, browser, meta]) {
      expect(policy.get('script-src')).toEqual(["'self'"])
      // Voice messages play from blob: URLs; nothing else (no data:, no remote audio).
      expect(policy.get('media-src')).toEqual(["'self'", 'blob:'])
      expect([...policy.values()].flat()).not.toContain("'unsafe-eval'")
    }
  })
})
