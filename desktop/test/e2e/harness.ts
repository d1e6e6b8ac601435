import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterEach } from 'vitest'
import { silentLogger } from '../../src/core/logger'
import type { CoreOptions } from '../../src/core/options'
import { DEFAULT_RENDERER_DIR, type RunningHost, startHost } from '../../src/host/server'
import { fastTiming } from '../helpers/core'
import { startProxy, type TestProxy } from '../helpers/proxy'
import { startRelay, type TestRelay } from '../helpers/relay'
import { CHROMIUM, CHROMIUM_FLAGS } from './chromium'

/** The scenarios need Chromium (Debian's `chromium` package) and the built renderer (`npm run build:renderer`). */
export const canRunE2e = existsSync(CHROMIUM) && existsSync(path.join(DEFAULT_RENDERER_DIR, 'index.html'))

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/e2e', import.meta.url))

export interface Person {
  name: string
  username: string
  page: Page
  context: BrowserContext
  host: RunningHost
  /** Between this person's core and the relay: cut it to take them offline. */
  proxy: TestProxy
  dataDir: string
  /** Quit the app (the host stops; the page is left showing its last state). */
  quit(): Promise<void>
  /** Launch the app again on the same data folder and open it in a new page. */
  relaunch(): Promise<void>
  /**
   * Stop the app and start it again on the same data folder, leaving the page as it is (as after
   * a crash or an update). It keeps its address, unless given another token.
   */
  restartApp(options?: { token?: string }): Promise<void>
}

/**
 * A real relay, Chromium, and people each with their own browser-mode host and data folder.
 *
 * An uncaught error in any page fails the test it happened in: a World made inside a `describe`
 * checks after each of its tests, and `stop()` throws for any error no test has answered for
 * (one raised in `beforeAll`, or by a World made elsewhere).
 */
export class World {
  relay!: TestRelay
  browser!: Browser
  readonly people: Person[] = []
  readonly #dirs: string[] = []
  readonly #pageErrors: string[] = []

  constructor() {
    try {
      afterEach(() => this.assertNoPageErrors())
    } catch {
      // Not made while a suite is being collected: stop() still reports every error.
    }
  }

  /** Throws (once) with every uncaught page error seen since the last check. */
  assertNoPageErrors(): void {
    const errors = this.#pageErrors.splice(0)
    if (errors.length > 0) throw new Error(`Uncaught errors in the page:\n${errors.join('\n')}`)
  }

  #watch(name: string, page: Page): void {
    page.on('pageerror', (error) => {
      const where = error.stack?.split('\n').slice(1, 4).join('\n') ?? ''
      this.#pageErrors.push(`[${name}] ${error.message}${where ? `\n${where}` : ''}`)
    })
    // Chromium reports some uncaught errors (in promise callbacks, from workers) only to the console.
    page.on('console', (message) => {
      if (message.type() === 'error' && message.text().startsWith('Uncaught')) {
        this.#pageErrors.push(`[${name}] ${message.text()}`)
      }
    })
  }

  /**
   * `relayEnv`: the relay's settings, as an operator would set them (MAX_FILE_BYTES, say).
   * `chromiumFlags`: more flags for this world's Chromium only (a fake microphone, say).
   */
  async start(
    options: { relayEnv?: Record<string, string>; chromiumFlags?: readonly string[] } = {},
  ): Promise<void> {
    this.relay = await startRelay(options.relayEnv ? { env: options.relayEnv } : {})
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_FLAGS, ...(options.chromiumFlags ?? [])],
    })
  }

  /** `core`: options for this person's app (as the Electron shell would pass, e.g. its keychain cipher). */
  async person(name: string, core: Partial<Omit<CoreOptions, 'dataDir'>> = {}): Promise<Person> {
    const dataDir = mkdtempSync(path.join(tmpdir(), `parley-e2e-${name.toLowerCase()}-`))
    this.#dirs.push(dataDir)
    const relayPort = Number(new URL(this.relay.url).port)
    const proxy = await startProxy(relayPort)
    const startApp = (token?: string) =>
      startHost({ dataDir, logger: silentLogger, timing: fastTiming, ...core, ...(token && { token }) })
    const launch = async () => {
      const host = await startApp()
      const context = await this.browser.newContext({ viewport: { width: 1120, height: 720 } })
      context.setDefaultTimeout(10_000)
      const page = await context.newPage()
      this.#watch(name, page)
      await page.goto(host.url)
      return { host, context, page }
    }
    const first = await launch()
    const person: Person = {
      name,
      username: `${name.toLowerCase()}_${Math.random().toString(36).slice(2, 7)}`,
      ...first,
      proxy,
      dataDir,
      quit: async () => {
        await person.host.close()
      },
      relaunch: async () => {
        await person.context.close()
        Object.assign(person, await launch())
      },
      restartApp: async (options = {}) => {
        await person.host.close()
        person.host = await startApp(options.token)
      },
    }
    this.people.push(person)
    return person
  }

  /** People who have each created an account through the first-run screen. */
  async registered<const Names extends readonly string[]>(
    ...names: Names
  ): Promise<{ [K in keyof Names]: Person }> {
    const people: Person[] = []
    for (const name of names) people.push(await this.person(name))
    await Promise.all(people.map(register))
    return people as { [K in keyof Names]: Person }
  }

  /** People with accounts, the first a contact of each of the others. */
  async contacts<const Names extends readonly string[]>(
    ...names: Names
  ): Promise<{ [K in keyof Names]: Person }> {
    const people = await this.registered(...names)
    for (const other of people.slice(1)) await connect(people[0], other)
    return people
  }

  async stop(): Promise<void> {
    for (const person of this.people) {
      await person.context.close().catch(() => undefined)
      await person.host.close().catch(() => undefined)
      await person.proxy.close().catch(() => undefined)
    }
    await this.browser?.close()
    await this.relay?.close()
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true })
    this.assertNoPageErrors()
  }
}

/** Creates an account through the first-run screen, with the relay reached through the person's proxy. */
export async function register(person: Person): Promise<void> {
  const { page } = person
  await page.getByRole('tab', { name: 'Create account' }).click()
  await page.getByLabel('Relay address').fill(person.proxy.url)
  await page.getByLabel('Username').fill(person.username)
  await page.getByLabel('Password').fill('correct horse battery')
  await page.getByLabel('First name').fill(person.name)
  await page.getByLabel('Last name').fill('Tester')
  await page.getByLabel('Email').fill(`${person.username}@example.org`)
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('button', { name: 'Your profile' }).waitFor()
}

/** `from` asks `to` to be a contact through the add-contact dialog; `to` accepts from the requests list. */
export async function connect(from: Person, to: Person): Promise<void> {
  await from.page.getByRole('button', { name: 'Add contact' }).click()
  await from.page.getByLabel('Username').fill(to.username)
  await from.page.getByRole('button', { name: `Add ${to.username}` }).click()
  await from.page.getByText('Request sent').first().waitFor()
  await from.page.keyboard.press('Escape')
  await to.page.getByRole('button', { name: `Accept ${from.username}` }).click()
  await chatRow(to.page, from.name).waitFor()
  await chatRow(from.page, to.name).waitFor()
}

export function chatRow(page: Page, name: string) {
  return page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('button', { name: new RegExp(name) })
}

export async function openChat(page: Page, name: string): Promise<void> {
  await chatRow(page, name).click()
  await settled(page)
}

/** The message list has loaded and taken its place (it is busy while it loads a page). */
export async function settled(page: Page): Promise<void> {
  await page.locator('[role="log"][aria-busy="false"]').waitFor()
}

export function messageLog(page: Page) {
  return page.getByRole('log')
}

/** The message whose text is exactly this (or matches the pattern). */
export function bubble(page: Page, text: string | RegExp) {
  const body = typeof text === 'string' ? page.getByText(text, { exact: true }) : page.getByText(text)
  return messageLog(page).locator('article.message').filter({ has: body })
}

/** The message whose own text (not a reply's quote in it) is exactly this. */
export function textBubble(page: Page, text: string) {
  return messageLog(page)
    .locator('article.message')
    .filter({ has: page.locator('.text').getByText(text, { exact: true }) })
}

/** The message whose text contains this (formatted text is split across elements, so no exact match). */
export function messageWith(page: Page, text: string | RegExp) {
  return messageLog(page).locator('article.message').filter({ hasText: text })
}

/** Writes a message in the composer and sends it, and waits for the box to be free again. */
export async function write(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' })
  await box.fill(text)
  await box.press('Enter')
  await until(async () => (await box.inputValue()) === '')
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' })
  await box.fill(text)
  await box.press('Enter')
  await bubble(page, text).waitFor()
}

/** Saves the page in the light and the dark theme as test artifacts (test-artifacts/e2e). */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  // Away from any message, so no hover toolbar covers the picture.
  await page.mouse.move(2, (page.viewportSize()?.height ?? 720) - 4)
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme })
    await page.waitForTimeout(100)
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${scheme}.png`) })
  }
  await page.emulateMedia({ colorScheme: 'light' })
}

/** The user id of a contact, as a person's own device knows it. */
export async function idOf(person: Person, username: string): Promise<number> {
  const contacts = await person.host.core.call('contacts.list', {})
  if (!contacts.ok) throw new Error(contacts.error.message)
  const contact = contacts.value.find((c) => c.user.username === username)
  if (!contact) throw new Error(`${person.name} has no contact ${username}`)
  return contact.user.id
}

/** Waits for a condition outside the page (in a core, on the relay). */
export async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The message menu (right-click on a message, or its toolbar's More). */
export const messageMenu = (page: Page) => page.getByRole('menu', { name: 'Message menu' })

/** What the page's clipboard holds (the context needs clipboard-read). */
export function clipboardText(page: Page): Promise<string> {
  return page.evaluate(() =>
    (
      globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
    ).navigator.clipboard.readText(),
  )
}
