import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bubble,
  canRunE2e,
  chatRow,
  connect,
  openChat,
  type Person,
  screenshots,
  send,
  World,
} from './harness'

/** What the conversation header says about the contact: online, away, last seen… */
function presenceLine(page: Page, name: string) {
  return page.getByRole('button', { name: new RegExp(`^Profile of ${name}`) }).locator('.status')
}

/**
 * The page as the browser shows it when its tab is in the background or its window minimized
 * (headless Chromium never hides a page by itself).
 */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((value) => {
    const web = globalThis as unknown as {
      document: { dispatchEvent(event: unknown): void }
      Event: new (type: string) => unknown
    }
    Object.defineProperty(web.document, 'hidden', { configurable: true, get: () => value })
    Object.defineProperty(web.document, 'visibilityState', {
      configurable: true,
      get: () => (value ? 'hidden' : 'visible'),
    })
    web.document.dispatchEvent(new web.Event('visibilitychange'))
  }, hidden)
}

const LOST = 'Lost the connection to the Parley app'
const NEW_ADDRESS = 'Parley was restarted with a new address. Open the address it printed.'

describe.skipIf(!canRunE2e)('reloading the page and restarting the app in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.registered('Alice', 'Bob')
    await connect(alice, bob)
    await openChat(alice.page, 'Bob')
    await openChat(bob.page, 'Alice')
  }, 90_000)
  afterAll(() => world.stop(), 60_000)

  it('a hidden page makes you away; a reload makes you online again', { timeout: 60_000 }, async () => {
    const seenByBob = presenceLine(bob.page, 'Alice')
    await expect.poll(() => seenByBob.textContent()).toBe('online')
    await setHidden(alice.page, true)
    await expect.poll(() => seenByBob.textContent()).toBe('away')

    await alice.page.reload()
    await openChat(alice.page, 'Bob')
    await expect.poll(() => seenByBob.textContent()).toBe('online')
  })

  it('with two tabs open, you are online while one of them is shown', { timeout: 60_000 }, async () => {
    const seenByBob = presenceLine(bob.page, 'Alice')
    await expect.poll(() => seenByBob.textContent()).toBe('online')
    const second = await alice.context.newPage()
    await second.goto(alice.host.url)
    await chatRow(second, 'Bob').waitFor()
    await setHidden(second, true)
    // The first tab is still shown: hiding the second changes nothing for Bob.
    await second.waitForTimeout(500)
    expect(await seenByBob.textContent()).toBe('online')

    await setHidden(alice.page, true)
    await expect.poll(() => seenByBob.textContent()).toBe('away')
    // Closing the hidden tab leaves the other one, hidden too: still away. Showing it is online.
    await second.close()
    await alice.page.waitForTimeout(300)
    expect(await seenByBob.textContent()).toBe('away')
    await setHidden(alice.page, false)
    await expect.poll(() => seenByBob.textContent()).toBe('online')
  })

  it('after the app restarts, the open page reconnects by itself, and a reload works', {
    timeout: 60_000,
  }, async () => {
    const address = alice.host.url
    await alice.quit()
    await alice.page.getByText(LOST).waitFor()
    await screenshots(alice.page, 'app-stopped')

    await alice.restartApp()
    expect(alice.host.url).toBe(address)
    await alice.page.getByText(LOST).waitFor({ state: 'detached' })
    await send(alice.page, 'Back after a restart')
    await bubble(bob.page, 'Back after a restart').waitFor()
    await expect.poll(() => presenceLine(bob.page, 'Alice').textContent()).toBe('online')

    await alice.page.reload()
    await openChat(alice.page, 'Bob')
    await bubble(alice.page, 'Back after a restart').waitFor()
  })

  it('after the app restarts with another address, the old page says to open the new one', {
    timeout: 60_000,
  }, async () => {
    await alice.restartApp({ token: 'a-new-token-given-at-this-start_0123456789' })
    const notice = alice.page.getByRole('alert').filter({ hasText: NEW_ADDRESS })
    await notice.waitFor()
    await screenshots(alice.page, 'app-new-address')

    // A reload cannot help, and nothing offers it as if it could.
    await alice.page.reload()
    await notice.waitFor()
    expect(await alice.page.getByRole('button', { name: 'Try again' }).count()).toBe(0)
    await screenshots(alice.page, 'app-new-address-reloaded')

    // The new address opens it, with everything there.
    await alice.page.goto(alice.host.url)
    await chatRow(alice.page, 'Bob').waitFor()
  })
})
