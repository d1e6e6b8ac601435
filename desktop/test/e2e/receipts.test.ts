import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bubble,
  canRunE2e,
  chatRow,
  connect,
  openChat,
  type Person,
  register,
  screenshots,
  send,
  World,
} from './harness'

describe.skipIf(!canRunE2e)('changes reach the page as deltas', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  /** The bridge methods Alice's page calls, counted from its socket to the app. */
  const asked = new Map<string, number>()

  beforeAll(async () => {
    await world.start()
    alice = await world.person('Alice')
    bob = await world.person('Bob')
    alice.page.on('websocket', (socket) => {
      socket.on('framesent', ({ payload }) => {
        const frame = JSON.parse(String(payload)) as { method?: unknown }
        if (typeof frame.method === 'string') asked.set(frame.method, (asked.get(frame.method) ?? 0) + 1)
      })
    })
    // Again, so the socket opens with the counter listening.
    await alice.page.reload()
  }, 60_000)
  afterAll(() => world.stop(), 60_000)

  it('delivered and read turn the ticks without rereading the conversation or the chat list', {
    timeout: 60_000,
  }, async () => {
    await register(alice)
    await register(bob)
    await connect(alice, bob)
    await openChat(alice.page, 'Bob')
    asked.clear()

    await send(alice.page, 'Did it arrive?')
    const mine = bubble(alice.page, 'Did it arrive?')
    const row = chatRow(alice.page, 'Bob')
    // Bob's app has it (his core says so by itself), then he opens the chat and reads it.
    await mine.getByRole('img', { name: 'Delivered' }).waitFor()
    await row.getByRole('img', { name: 'Delivered' }).waitFor()
    await openChat(bob.page, 'Alice')
    await bubble(bob.page, 'Did it arrive?').waitFor()
    await mine.getByRole('img', { name: 'Read' }).waitFor()
    await row.getByRole('img', { name: 'Read' }).waitFor()
    await row.getByText('Did it arrive?').waitFor()

    expect(asked.get('messages.page') ?? 0).toBe(0)
    expect(asked.get('conversations.list') ?? 0).toBe(0)
    await screenshots(alice.page, 'receipts-read')
  })
})
