import type { StatusChangeEvent } from '@parley/shared'
import { describe, expect } from 'vitest'
import { befriend, connect, contactsOf, emit, nextEvent, registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()

describe.each(dialects)('presence (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('online while any session is connected, away on request, offline with last seen when the last one leaves', async ({
    relay,
  }) => {
    const ann = await registerUser(relay.url)
    const ben = await registerUser(relay.url)
    await befriend(ann, ben)
    const benSocket = await connect(relay.url, ben.token)
    const fromAnn = (status: StatusChangeEvent['status']) => (e: StatusChangeEvent) =>
      e.userId === ann.user.id && e.status === status
    try {
      const online = nextEvent(benSocket, 'user_status_change', fromAnn('online'))
      const phone = await connect(relay.url, ann.token)
      expect(await online).toEqual({ userId: ann.user.id, status: 'online', lastSeen: null })
      const laptop = await connect(relay.url, ann.token)

      const away = nextEvent(benSocket, 'user_status_change', fromAnn('away'))
      expect(await emit(laptop, 'user_status_change', { status: 'away' })).toEqual({ ok: true })
      // The phone is still online, so Ann stays online until the phone leaves.
      expect((await contactsOf(ben)).find((c) => c.user.id === ann.user.id)?.presence?.status).toBe('online')
      phone.close()
      expect(await away).toEqual({ userId: ann.user.id, status: 'away', lastSeen: null })

      const offline = nextEvent(benSocket, 'user_status_change', fromAnn('offline'))
      const leftAt = Date.now()
      laptop.close()
      const event = await offline
      expect(event.lastSeen).toBeGreaterThanOrEqual(leftAt - 1000)
      const listed = (await contactsOf(ben)).find((c) => c.user.id === ann.user.id)
      expect(listed?.presence).toEqual({ status: 'offline', lastSeen: event.lastSeen })
    } finally {
      benSocket.close()
    }
  })

  it('new contacts learn each other’s presence as soon as the request is accepted', async ({ relay }) => {
    const ann = await registerUser(relay.url)
    const ben = await registerUser(relay.url)
    const annSocket = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    try {
      const seen = nextEvent(annSocket, 'user_status_change', (e) => e.userId === ben.user.id)
      await befriend(ann, ben)
      expect(await seen).toEqual({ userId: ben.user.id, status: 'online', lastSeen: null })
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })
})
