import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { http } from '../helpers/relay'
import { bubble, canRunE2e, chatRow, connect, openChat, type Person, screenshots, World } from './harness'

const PASSWORD = 'correct horse battery'

/**
 * Fetch for the new device's app that holds each page of older history a moment, as a slow link
 * would, so the background loading can be seen (and photographed) before it ends.
 */
function slowHistory(delayMs: number): typeof fetch {
  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input)
    if (url.includes('/messages?') && url.includes('before=')) {
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
    return fetch(input, init)
  }
}

describe.skipIf(!canRunE2e)('signing in on a second device', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.registered('Alice', 'Bob')
    await connect(alice, bob)
    const login = await http<{ token: string }>(world.relay.url, 'POST', '/login', {
      body: { username: bob.username, password: PASSWORD },
    })
    const bobId = (
      await http<{ user: { id: number } }>(world.relay.url, 'GET', '/session', { token: login.body.token })
    ).body.user.id
    const aliceLogin = await http<{ token: string; user: { id: number } }>(
      world.relay.url,
      'POST',
      '/login',
      {
        body: { username: alice.username, password: PASSWORD },
      },
    )
    for (let i = 0; i < 80; i++) {
      await http(world.relay.url, 'POST', '/messages', {
        token: i % 2 ? login.body.token : aliceLogin.body.token,
        body: {
          clientId: randomUUID(),
          recipientId: i % 2 ? aliceLogin.body.user.id : bobId,
          text: i === 0 ? 'The very first thing we said' : `Message number ${i}`,
        },
      })
    }
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('opens at once with the newest messages, shows older ones loading, then finds the oldest in search', {
    timeout: 90_000,
  }, async () => {
    const laptop = await world.person('Laptop', { fetch: slowHistory(4000) })
    const { page } = laptop
    await page.getByRole('tab', { name: 'Sign in' }).click()
    await page.getByLabel('Relay address').fill(laptop.proxy.url)
    await page.getByLabel('Username').fill(alice.username)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('button', { name: 'Your profile' }).waitFor()

    // The chat and its newest page are there from the snapshot, while older history still loads.
    await chatRow(page, 'Bob').waitFor()
    await openChat(page, 'Bob')
    await bubble(page, 'Message number 79').waitFor()
    const status = page.getByRole('status').filter({ hasText: 'Loading older messages' })
    await status.waitFor()
    // One conversation to fill: no percentage, which would sit at 0% until it is all there.
    expect((await status.textContent())?.trim()).toBe('Loading older messages…')
    await screenshots(page, 'new-device-backfill')

    // Once it is done the indicator goes, and search finds the very first message.
    await status.waitFor({ state: 'detached', timeout: 30_000 })
    await page.getByLabel('Search chats and messages').fill('very first')
    await page.getByText('The very first thing we said').first().waitFor()
  })
})
