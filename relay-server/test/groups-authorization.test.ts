import { randomUUID } from 'node:crypto'
import { type ClientEventName, type ErrorCode, type RouteName, routes } from '@parley/shared'
import { describe, expect } from 'vitest'
import {
  befriend,
  type ClientSocket,
  connect,
  emit,
  http,
  record,
  registerUser,
  sleep,
  type TestUser,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import { downloadFile, pdfBytes, send, uploaded } from './helpers/files'
import { createGroup, makeInvite, ownerWithContacts, sendToGroup } from './helpers/groups'
import { relayTests, type TestRelay } from './helpers/relay'

/**
 * The authorization matrix of groups: every group route and socket event, tried by someone who
 * was never in the group, by a member who was removed, and (for what only the owner and admins
 * may do) by a plain member. Each is refused with the right code and changes nothing.
 */

interface World {
  relay: TestRelay
  ann: TestUser // owner
  ben: TestUser // member
  cat: TestUser // removed
  dan: TestUser // never a member
  groupId: number
  messageId: number
  /** A file Ann sent the group while Cat was still in it. */
  fileId: string
  code: string
}

type Who = 'outsider' | 'removed' | 'member'

interface RouteCase {
  route: RouteName
  path: (w: World) => string
  body?: (w: World) => unknown
  /** What a plain member gets: allowed, or this refusal. */
  member: 'allowed' | { status: number; code: ErrorCode }
  /** What an outsider or a removed member gets. */
  outsider: ErrorCode
}

const notAdmin = { status: 403, code: 'not_group_admin' } as const

const routeCases: RouteCase[] = [
  { route: 'getGroup', path: (w) => `/groups/${w.groupId}`, member: 'allowed', outsider: 'group_not_found' },
  {
    route: 'patchGroup',
    path: (w) => `/groups/${w.groupId}`,
    body: () => ({ title: 'Taken over' }),
    member: notAdmin,
    outsider: 'group_not_found',
  },
  {
    route: 'deleteGroup',
    path: (w) => `/groups/${w.groupId}`,
    member: notAdmin,
    outsider: 'group_not_found',
  },
  {
    route: 'groupEvents',
    path: (w) => `/groups/${w.groupId}/events?after=0`,
    member: 'allowed',
    outsider: 'group_not_found',
  },
  {
    route: 'addGroupMembers',
    path: (w) => `/groups/${w.groupId}/members`,
    body: (w) => ({ userIds: [w.dan.user.id] }),
    member: notAdmin,
    outsider: 'group_not_found',
  },
  {
    route: 'removeGroupMember',
    path: (w) => `/groups/${w.groupId}/members/${w.ann.user.id}`,
    member: notAdmin,
    outsider: 'group_not_found',
  },
  {
    route: 'patchGroupMember',
    path: (w) => `/groups/${w.groupId}/members/${w.ben.user.id}`,
    body: () => ({ role: 'admin' }),
    member: notAdmin,
    outsider: 'group_not_found',
  },
  {
    route: 'createGroupInvite',
    path: (w) => `/groups/${w.groupId}/invites`,
    body: () => ({}),
    member: notAdmin,
    outsider: 'group_not_found',
  },
  {
    route: 'listGroupInvites',
    path: (w) => `/groups/${w.groupId}/invites`,
    member: notAdmin,
    outsider: 'group_not_found',
  },
  {
    route: 'revokeGroupInvite',
    path: (w) => `/groups/${w.groupId}/invites/${w.code}`,
    member: notAdmin,
    outsider: 'group_not_found',
  },
  {
    route: 'messagePage',
    path: (w) => `/messages?group=${w.groupId}`,
    member: 'allowed',
    outsider: 'group_not_found',
  },
  {
    route: 'sendMessage',
    path: () => '/messages',
    body: (w) => ({ clientId: randomUUID(), groupId: w.groupId, text: 'let me in' }),
    member: 'allowed',
    outsider: 'group_not_found',
  },
  {
    route: 'editMessage',
    path: (w) => `/messages/${w.messageId}`,
    body: () => ({ text: 'rewritten' }),
    member: { status: 403, code: 'not_message_sender' },
    outsider: 'message_not_found',
  },
  {
    route: 'deleteMessage',
    path: (w) => `/messages/${w.messageId}`,
    member: { status: 403, code: 'not_message_sender' },
    outsider: 'message_not_found',
  },
  {
    route: 'hideMessage',
    path: (w) => `/messages/${w.messageId}/hide`,
    member: 'allowed',
    outsider: 'message_not_found',
  },
  {
    route: 'messageHistory',
    path: (w) => `/messages/${w.messageId}/history`,
    member: 'allowed',
    outsider: 'message_not_found',
  },
  {
    route: 'messageReceipts',
    path: (w) => `/messages/${w.messageId}/receipts`,
    member: { status: 403, code: 'not_message_sender' },
    outsider: 'message_not_found',
  },
]

interface EventCase {
  event: ClientEventName
  payload: (w: World) => unknown
  member: 'allowed' | ErrorCode
  outsider: ErrorCode
}

const eventCases: EventCase[] = [
  {
    event: 'message',
    payload: (w) => ({ clientId: randomUUID(), groupId: w.groupId, text: 'hi' }),
    member: 'allowed',
    outsider: 'group_not_found',
  },
  {
    event: 'message_updated',
    payload: (w) => ({ id: w.messageId, text: 'rewritten' }),
    member: 'not_message_sender',
    outsider: 'message_not_found',
  },
  {
    event: 'message_deleted',
    payload: (w) => ({ id: w.messageId }),
    member: 'not_message_sender',
    outsider: 'message_not_found',
  },
  {
    event: 'reaction',
    payload: (w) => ({ messageId: w.messageId, emoji: '👀', present: true }),
    member: 'allowed',
    outsider: 'message_not_found',
  },
  {
    event: 'read',
    payload: (w) => ({ group: w.groupId, upTo: w.messageId }),
    member: 'allowed',
    outsider: 'group_not_found',
  },
  {
    event: 'delivered',
    payload: (w) => ({ group: w.groupId, upTo: w.messageId }),
    member: 'allowed',
    outsider: 'group_not_found',
  },
  {
    event: 'typing',
    payload: (w) => ({ group: w.groupId, typing: true }),
    member: 'allowed',
    outsider: 'group_not_found',
  },
]

const withRelay = relayTests()

describe.each(dialects)('group authorization matrix (%s)', (dialect) => {
  const it = withRelay[dialect]
  let world: World | undefined

  async function setUp(relay: TestRelay): Promise<World> {
    if (world) return world
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const dan = await registerUser(relay.url)
    const group = await createGroup(ann, [ben!, cat!], 'Private')
    const sent = await sendToGroup(ann, group.id, 'members only')
    const file = await uploaded(ann, pdfBytes(600), 'minutes.pdf')
    await send(ann, { groupId: group.id, fileId: file.id })
    const removed = await http(relay.url, 'DELETE', `/groups/${group.id}/members/${cat!.user.id}`, {
      token: ann.token,
    })
    if (removed.status !== 200) throw new Error('could not remove Cat')
    const invite = await makeInvite(ann, group.id)
    world = {
      relay,
      ann,
      ben: ben!,
      cat: cat!,
      dan,
      groupId: group.id,
      messageId: sent.message.id,
      fileId: file.id,
      code: invite.code,
    }
    return world
  }

  const userOf = (w: World, who: Who) => (who === 'outsider' ? w.dan : who === 'removed' ? w.cat : w.ben)
  const head = async (w: World) =>
    Number(
      (
        await w.relay.app.db
          .selectFrom('groups')
          .select('head_seq')
          .where('id', '=', w.groupId)
          .executeTakeFirstOrThrow()
      ).head_seq,
    )

  it('covers every route about groups or group messages', () => {
    const groupRoutes = (Object.keys(routes) as RouteName[]).filter((name) =>
      routes[name].url.startsWith('/groups/:id'),
    )
    const covered = new Set(routeCases.map((c) => c.route))
    expect(groupRoutes.filter((name) => !covered.has(name))).toEqual([])
  })

  for (const who of ['outsider', 'removed'] as const) {
    for (const c of routeCases) {
      it(`${routes[c.route].method} ${routes[c.route].url} by a ${who === 'outsider' ? 'non-member' : 'removed member'} is 404 ${c.outsider} and changes nothing`, async ({
        relay,
      }) => {
        const w = await setUp(relay)
        const before = await head(w)
        const user = userOf(w, who)
        const result = await http(relay.url, routes[c.route].method, c.path(w), {
          token: user.token,
          ...(c.body && { body: c.body(w) }),
        })
        expect({ status: result.status, body: result.body }).toEqual({
          status: 404,
          body: { error: { code: c.outsider, message: expect.any(String) } },
        })
        expect(await head(w)).toBe(before)
      })
    }
    for (const c of eventCases) {
      it(`socket ${c.event} by a ${who === 'outsider' ? 'non-member' : 'removed member'} is refused with ${c.outsider}`, async ({
        relay,
      }) => {
        const w = await setUp(relay)
        const before = await head(w)
        const socket = await connect(relay.url, userOf(w, who).token)
        try {
          const ack = await emit(socket, c.event, c.payload(w) as never)
          expect(ack).toEqual({ ok: false, error: { code: c.outsider, message: expect.any(String) } })
        } finally {
          socket.close()
        }
        expect(await head(w)).toBe(before)
      })
    }
  }

  for (const c of routeCases.filter((r) => r.member !== 'allowed')) {
    const refusal = c.member as { status: number; code: ErrorCode }
    it(`${routes[c.route].method} ${routes[c.route].url} by a plain member acting as admin is ${refusal.status} ${refusal.code}`, async ({
      relay,
    }) => {
      const w = await setUp(relay)
      const before = await head(w)
      const result = await http(relay.url, routes[c.route].method, c.path(w), {
        token: w.ben.token,
        ...(c.body && { body: c.body(w) }),
      })
      expect({ status: result.status, body: result.body }).toEqual({
        status: refusal.status,
        body: { error: { code: refusal.code, message: expect.any(String) } },
      })
      expect(await head(w)).toBe(before)
    })
  }

  for (const c of eventCases.filter((e) => e.member !== 'allowed')) {
    it(`socket ${c.event} on the owner's message by a plain member is refused with ${c.member}`, async ({
      relay,
    }) => {
      const w = await setUp(relay)
      const socket = await connect(relay.url, w.ben.token)
      try {
        const ack = await emit(socket, c.event, c.payload(w) as never)
        expect(ack).toEqual({ ok: false, error: { code: c.member, message: expect.any(String) } })
      } finally {
        socket.close()
      }
    })
  }

  for (const who of ['outsider', 'removed'] as const) {
    const name = who === 'outsider' ? 'a non-member' : 'a removed member'
    it(`${name} cannot download a file sent in the group (404 file_not_found); a member can`, async ({
      relay,
    }) => {
      const w = await setUp(relay)
      const got = await downloadFile(relay.url, userOf(w, who).token, w.fileId)
      expect({ status: got.status, code: JSON.parse(got.bytes.toString()).error.code }).toEqual({
        status: 404,
        code: 'file_not_found',
      })
      expect((await downloadFile(relay.url, w.ben.token, w.fileId)).status).toBe(200)
    })

    it(`${name} cannot forward a group message to a contact: 404 message_not_found`, async ({ relay }) => {
      const w = await setUp(relay)
      const user = userOf(w, who)
      // Cat is Ann's contact; Dan forwards to a contact of his own.
      const to = who === 'removed' ? w.ann : await registerUser(relay.url)
      if (who === 'outsider') await befriend(user, to)
      const result = await send(user, { recipientId: to.user.id, forwardOf: w.messageId })
      expect({ status: result.status, body: result.body }).toEqual({
        status: 404,
        body: { error: { code: 'message_not_found', message: expect.any(String) } },
      })
    })
  }

  it('a member cannot forward into the group what they cannot see, nor reply there to a 1:1 message', async ({
    relay,
  }) => {
    const w = await setUp(relay)
    const before = await head(w)
    const private1to1 = await send(w.ann, { recipientId: w.cat.user.id, text: 'just us' })
    const forward = await send(w.ben, { groupId: w.groupId, forwardOf: private1to1.body.message.id })
    expect(forward.status).toBe(404)
    const reply = await send(w.ann, {
      groupId: w.groupId,
      text: 're',
      replyToId: private1to1.body.message.id,
    })
    expect({ status: reply.status, body: reply.body }).toEqual({
      status: 404,
      body: { error: { code: 'reply_not_found', message: expect.any(String) } },
    })
    expect(await head(w)).toBe(before)
  })

  it('the sockets of a non-member and of a removed member hear nothing of the group', async ({ relay }) => {
    const w = await setUp(relay)
    const sockets: ClientSocket[] = await Promise.all(
      [w.dan, w.cat, w.ben].map((u) => connect(relay.url, u.token)),
    )
    try {
      await sleep(150)
      const [danSocket, catSocket, benSocket] = sockets as [ClientSocket, ClientSocket, ClientSocket]
      const heard = {
        dan: [
          record(danSocket, 'group_event'),
          record(danSocket, 'typing'),
          record(danSocket, 'group_receipts'),
        ],
        cat: [
          record(catSocket, 'group_event'),
          record(catSocket, 'typing'),
          record(catSocket, 'group_receipts'),
        ],
      }
      const benHeard = record(benSocket, 'group_event')
      const annSocket = await connect(relay.url, w.ann.token)
      try {
        await sleep(150)
        const sent = await emit(annSocket, 'message', {
          clientId: randomUUID(),
          groupId: w.groupId,
          text: 'secret',
        })
        if (!sent.ok) throw new Error(sent.error.message)
        await emit(annSocket, 'typing', { group: w.groupId, typing: true })
        await emit(annSocket, 'reaction', { messageId: sent.message.id, emoji: '🤫', present: true })
        await expect.poll(() => benHeard.length).toBeGreaterThanOrEqual(2)
        await sleep(1200) // past the "everyone" markers' interval
      } finally {
        annSocket.close()
      }
      expect(heard.dan.map((h) => h.length)).toEqual([0, 0, 0])
      expect(heard.cat.map((h) => h.length)).toEqual([0, 0, 0])
    } finally {
      for (const s of sockets) s.close()
    }
  })

  it('the owner and admins may do what the matrix refused a member', async ({ relay }) => {
    const w = await setUp(relay)
    const admin = await http(relay.url, 'PATCH', `/groups/${w.groupId}/members/${w.ben.user.id}`, {
      token: w.ann.token,
      body: { role: 'admin' },
    })
    expect(admin.status).toBe(200)
    const renamed = await http(relay.url, 'PATCH', `/groups/${w.groupId}`, {
      token: w.ben.token,
      body: { title: 'Renamed by an admin' },
    })
    expect(renamed.status).toBe(200)
    const invites = await http(relay.url, 'GET', `/groups/${w.groupId}/invites`, { token: w.ben.token })
    expect(invites.status).toBe(200)
    const deleted = await http(relay.url, 'DELETE', `/messages/${w.messageId}`, { token: w.ben.token })
    expect(deleted.status).toBe(200)
    world = undefined
  })
})
