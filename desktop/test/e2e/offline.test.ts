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

describe.skipIf(!canRunE2e)('offline in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.registered('Alice', 'Bob')
    await connect(alice, bob)
    await openChat(alice.page, 'Bob')
    await openChat(bob.page, 'Alice')
    await send(alice.page, 'Leaving the office now')
    await bubble(bob.page, 'Leaving the office now').waitFor()
  }, 90_000)
  afterAll(() => world.stop(), 60_000)

  it('a message written offline waits, then arrives exactly once', { timeout: 60_000 }, async () => {
    alice.proxy.goOffline()
    await alice.page
      .getByRole('status')
      .getByText(/Offline/)
      .waitFor()

    await send(alice.page, 'Written in the tunnel')
    const pending = bubble(alice.page, 'Written in the tunnel')
    await pending.getByRole('img', { name: 'Sending' }).waitFor()
    await screenshots(alice.page, 'offline')
    await bob.page.waitForTimeout(1000)
    expect(await bubble(bob.page, 'Written in the tunnel').count()).toBe(0)

    alice.proxy.goOnline()
    await bubble(bob.page, 'Written in the tunnel').waitFor()
    await pending.getByRole('img', { name: /Sent|Delivered|Read/ }).waitFor()
    await alice.page
      .getByRole('status')
      .getByText(/Offline/)
      .waitFor({ state: 'detached' })
    // Once, even after the catch-up and the live event both had it.
    await bob.page.waitForTimeout(500)
    expect(await bubble(bob.page, 'Written in the tunnel').count()).toBe(1)
    // One time for both: when the relay accepted it, not when it was written in the tunnel.
    const shownTo = (page: typeof alice.page) =>
      bubble(page, 'Written in the tunnel').locator('time').getAttribute('datetime')
    expect(await shownTo(alice.page)).toBe(await shownTo(bob.page))
  })

  it('a reload shows chats and messages from the cache while the relay is unreachable', {
    timeout: 60_000,
  }, async () => {
    alice.proxy.goOffline()
    await alice.page.reload()
    await chatRow(alice.page, 'Bob').getByText('Written in the tunnel').waitFor()
    await openChat(alice.page, 'Bob')
    await bubble(alice.page, 'Leaving the office now').waitFor()
    await bubble(alice.page, 'Written in the tunnel').waitFor()
    alice.proxy.goOnline()
  })

  it('after quitting and relaunching offline, the cache and the draft are all there', {
    timeout: 60_000,
  }, async () => {
    const box = alice.page.getByRole('textbox', { name: 'Message' })
    await box.fill('half a thought')
    // The draft is saved a moment after typing stops.
    await alice.page.waitForTimeout(700)
    alice.proxy.goOffline()
    await alice.quit()
    // The page says its app is gone rather than spinning.
    await alice.page
      .getByRole('alert')
      .getByText(/Lost the connection to the Parley app/)
      .waitFor()
    await alice.relaunch()
    await chatRow(alice.page, 'Bob').getByText(/Draft/).waitFor()
    await openChat(alice.page, 'Bob')
    await bubble(alice.page, 'Written in the tunnel').waitFor()
    await expect
      .poll(() => alice.page.getByRole('textbox', { name: 'Message' }).inputValue())
      .toBe('half a thought')
    alice.proxy.goOnline()
  })
})
