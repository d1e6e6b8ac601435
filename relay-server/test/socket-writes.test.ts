import type { GroupEvent } from '@parley/shared'
import { describe, expect } from 'vitest'
import { connect, nextEvent, record, type TestUser } from './helpers/client'
import { createGroup, ownerWithContacts, sendToGroup } from './helpers/groups'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()

/** Counts the write calls reaching a TCP socket: one per system call Node makes for it. */
function countWrites(tcp: { _write: unknown; _writev: unknown }) {
  const counted = { calls: 0 }
  for (const name of ['_write', '_writev'] as const) {
    const original = tcp[name] as (...args: unknown[]) => unknown
    tcp[name] = (...args: unknown[]) => {
      counted.calls++
      return original.apply(tcp, args)
    }
  }
  return counted
}

// Nothing here depends on the database, so one dialect is enough.
describe('WebSocket writes (sqlite)', () => {
  const it = withRelay.sqlite

  it('packets that queue for a socket while a write is in flight go out in one write, whole and in order', async ({
    relay,
  }) => {
    const [owner, member] = (await ownerWithContacts(relay.url, 1)) as [TestUser, TestUser]
    const group = await createGroup(owner, [member])
    const socket = await connect(relay.url, member.token)
    try {
      const first = nextEvent(socket, 'group_event', (e) => e.type === 'message')
      const sent = await sendToGroup(owner, group.id, 'the model for the burst')
      await first
      // The relay's end of the member's connection: socket.io → engine.io → ws → net.Socket.
      const serverSocket = [...relay.app.io.of('/').sockets.values()].find(
        (s) => s.data.userId === member.user.id,
      )
      const transport = serverSocket!.conn.transport as unknown as {
        socket: { _socket: { _write: unknown; _writev: unknown } }
      }
      const writes = countWrites(transport.socket._socket)

      // Fifty entries in one tick, as when a batch of messages to the group commits together: the
      // first is written at once, the other 49 wait for it and then go in one send.
      const burst = 50
      const seen = record(socket, 'group_event')
      const last = nextEvent(socket, 'group_event', (e) => e.seq === 1000 + burst)
      for (let i = 1; i <= burst; i++) {
        const entry: GroupEvent = {
          groupId: group.id,
          seq: 1000 + i,
          type: 'message',
          createdAt: sent.message.createdAt,
          data: { ...sent.message, text: `burst ${i}` },
        }
        relay.app.realtime.toGroup(group.id, [], 'group_event', entry)
      }
      await last
      expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: burst }, (_, i) => 1001 + i))
      expect(seen.map((e) => (e.type === 'message' ? e.data.text : null))).toEqual(
        Array.from({ length: burst }, (_, i) => `burst ${i + 1}`),
      )
      // Uncorked, that is one write per packet (50); corked, the first and then the rest together.
      expect(writes.calls).toBeLessThanOrEqual(3)
    } finally {
      socket.close()
    }
  })
})
