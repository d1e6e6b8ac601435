import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { FeedEvent, Group, GroupEvent, Message, SyncResponse } from '@parley/shared'
import { describe, expect } from 'vitest'
import { ERASE_CHUNK } from '../src/services/erase'
import { admin, CLI_TEST_MS } from './helpers/admin'
import {
  befriend,
  connect,
  contactsOf,
  http,
  nextEvent,
  record,
  registerContacts,
  registerUser,
  sendMessage,
  type TestUser,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import {
  changesOf,
  createGroup,
  groupLog,
  makeInvite,
  ownerWithContacts,
  sendToGroup,
} from './helpers/groups'
import { download, makeImage, upload } from './helpers/images'
import { relayTests, type TestRelay } from './helpers/relay'

let offsetMs = 0
const withRelay = relayTests({ clock: () => Date.now() + offsetMs, sessionSweepMs: 100 })

const erase = (user: TestUser, password = user.password) =>
  http<{ error: { code: string } }>(user.base, 'DELETE', '/users/me', {
    token: user.token,
    body: { password },
  })

async function feedOf(user: TestUser): Promise<FeedEvent[]> {
  const events: FeedEvent[] = []
  let after = 0
  for (;;) {
    const page = await http<SyncResponse>(user.base, 'GET', `/sync?after=${after}&limit=500`, {
      token: user.token,
    })
    events.push(...page.body.events)
    after = page.body.cursor
    if (!page.body.hasMore) return events
  }
}

/** What a relay that stopped right after an erasure's first step leaves: marked, nothing else done. */
const markedOnly = (relay: TestRelay, user: TestUser) =>
  relay.app.db
    .updateTable('users')
    .set({ erased_at: Date.now(), deactivated_at: Date.now() })
    .where('id', '=', user.user.id)
    .execute()

const blobPath = (relay: TestRelay, id: string) =>
  path.join(relay.config.dataDir, 'images', id.slice(0, 2), id)

describe.each(dialects)('erasing an account (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('a wrong password is invalid_credentials and changes nothing', async ({ relay }) => {
    const alice = await registerUser(relay.url)
    const refused = await erase(alice, 'not my password')
    expect(refused.status).toBe(401)
    expect(refused.body.error.code).toBe('invalid_credentials')
    expect((await http(relay.url, 'GET', '/session', { token: alice.token })).status).toBe(200)
    // No password at all is a validation error, not an erasure.
    const bare = await http<{ error: { code: string } }>(relay.url, 'DELETE', '/users/me', {
      token: alice.token,
      body: {},
    })
    expect(bare.body.error.code).toBe('validation_failed')
  })

  it('wipes the profile, signs out everywhere, tombstones sent messages for the peer, removes contacts, deletes pictures', async ({
    relay,
  }) => {
    const [alice, bob] = await registerContacts(relay.url)
    const carol = await registerUser(relay.url)
    await http(relay.url, 'POST', '/contacts', {
      token: alice.token,
      body: { username: carol.user.username },
    })

    const picture = await upload(relay.url, alice.token, await makeImage('png', 80, 60, '#aa2233'))
    expect(picture.status).toBe(201)
    const avatar = await upload(relay.url, alice.token, await makeImage('png', 90, 90, '#22aa33'))
    await http(relay.url, 'PATCH', `/users/${alice.user.id}`, {
      token: alice.token,
      body: { avatarImageId: avatar.body.image.id },
    })
    const withPicture = await http<{ message: Message }>(relay.url, 'POST', '/messages', {
      token: alice.token,
      body: { clientId: randomUUID(), recipientId: bob.user.id, imageId: picture.body.image.id },
    })
    const fromAlice = await sendMessage(alice, bob, 'from alice')
    const fromBob = await sendMessage(bob, alice, 'from bob')
    const reacted = await http(relay.url, 'POST', '/messages', {
      token: alice.token,
      body: { clientId: randomUUID(), recipientId: bob.user.id, text: 'x' },
    })
    expect(reacted.status).toBe(201)
    const aliceSocket = await connect(relay.url, alice.token)
    const reaction = await new Promise<{ ok: boolean }>((resolve) =>
      aliceSocket.emit('reaction', { messageId: fromBob.message.id, emoji: '👍' }, resolve as never),
    )
    expect(reaction.ok).toBe(true)
    expect(existsSync(blobPath(relay, picture.body.image.id))).toBe(true)

    const bobSocket = await connect(relay.url, bob.token)
    const removed = nextEvent(bobSocket, 'contact_removed', (e) => e.data.userId === alice.user.id)
    const deleted = nextEvent(bobSocket, 'message_deleted', (e) => e.data.id === fromAlice.message.id)
    const ended = nextEvent(aliceSocket, 'session_ended')
    const second = await http<{ token: string }>(relay.url, 'POST', '/login', {
      body: { username: alice.user.username, password: alice.password },
    })

    expect((await erase(alice)).status).toBe(204)
    await removed
    await deleted
    await ended

    // Every session is gone, and signing in again is refused like a wrong password.
    for (const token of [alice.token, second.body.token]) {
      expect((await http(relay.url, 'GET', '/session', { token })).status).toBe(401)
    }
    const again = await http<{ error: { code: string } }>(relay.url, 'POST', '/login', {
      body: { username: alice.user.username, password: alice.password },
    })
    expect(again.body.error.code).toBe('invalid_credentials')

    // Bob sees tombstones for everything alice sent, his own message without her reaction, and
    // no alice among his contacts; carol's pending request is gone too.
    const page = await http<{ messages: Message[] }>(
      relay.url,
      'GET',
      `/messages?with=${alice.user.id}&limit=50`,
      { token: bob.token },
    )
    for (const message of page.body.messages) {
      if (message.senderId === alice.user.id) {
        expect(message.deletedAt).not.toBeNull()
        expect(message.text).toBeNull()
        expect(message.image).toBeNull()
      } else {
        expect(message.text).toBe('from bob')
        expect(message.reactions).toEqual([])
      }
    }
    expect(page.body.messages).toHaveLength(4)
    expect((await contactsOf(bob)).map((c) => c.user.id)).not.toContain(alice.user.id)
    expect(await contactsOf(carol)).toEqual([])

    // Bob's feed says so, as a normal delete would.
    const feed = await feedOf(bob)
    const deletions = feed.filter((e) => e.type === 'message_deleted').map((e) => (e.data as Message).id)
    expect(deletions).toEqual(expect.arrayContaining([withPicture.body.message.id, fromAlice.message.id]))
    expect(feed.some((e) => e.type === 'reaction' && (e.data as Message).id === fromBob.message.id)).toBe(
      true,
    )
    expect(feed.some((e) => e.type === 'contact_removed' && e.data.userId === alice.user.id)).toBe(true)
    const wiped = feed.findLast((e) => e.type === 'user_updated')
    expect(wiped?.data).toMatchObject({ id: alice.user.id, firstName: 'Deleted', avatarImageId: null })

    // Her pictures are deleted, bytes and all.
    for (const id of [picture.body.image.id, avatar.body.image.id]) {
      expect(existsSync(blobPath(relay, id))).toBe(false)
      expect((await download(relay.url, bob.token, id)).status).toBe(404)
    }

    // Nobody finds her, and her username stays reserved for the grace period.
    const search = await http<{ users: unknown[] }>(
      relay.url,
      'GET',
      `/users?q=${encodeURIComponent(alice.user.username)}`,
      { token: bob.token },
    )
    expect(search.body.users).toEqual([])
    const request = await http<{ error: { code: string } }>(relay.url, 'POST', '/contacts', {
      token: bob.token,
      body: { username: alice.user.username },
    })
    expect(request.body.error.code).toBe('user_not_found')
    const taken = await http<{ error: { code: string } }>(relay.url, 'POST', '/users', {
      body: {
        username: alice.user.username,
        password: 'another password',
        firstName: 'New',
        lastName: 'Alice',
        email: 'new@example.com',
      },
    })
    expect(taken.body.error.code).toBe('username_taken')
    aliceSocket.close()
    bobSocket.close()
  })

  it('releases the username after ERASED_USERNAME_GRACE_DAYS (30 by default), not before', async ({
    relay,
  }) => {
    const alice = await registerUser(relay.url)
    expect((await erase(alice)).status).toBe(204)
    offsetMs = 29 * 86_400_000
    expect(await relay.app.services.account.maintain()).toMatchObject({ released: 0 })
    offsetMs = 31 * 86_400_000
    try {
      expect((await relay.app.services.account.maintain()).released).toBeGreaterThanOrEqual(1)
      const fresh = await registerUser(relay.url, { username: alice.user.username })
      expect(fresh.user.id).not.toBe(alice.user.id)
    } finally {
      offsetMs = 0
    }
  })

  it(`erases a large account in chunks of ${ERASE_CHUNK}, every message a tombstone in the peer's feed`, async ({
    relay,
  }) => {
    const [alice, bob] = await registerContacts(relay.url)
    const count = ERASE_CHUNK * 2 + 17
    const { messages, committer } = relay.app.services
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        messages.send(alice.user.id, { clientId: randomUUID(), recipientId: bob.user.id, text: `m${i}` }),
      ),
    )
    const before = committer.stats.transactions
    expect((await erase(alice)).status).toBe(204)
    // At least one transaction per chunk of messages: the write queue was never held for all of them.
    expect(committer.stats.transactions - before).toBeGreaterThanOrEqual(3)
    const feed = await feedOf(bob)
    expect(feed.filter((e) => e.type === 'message_deleted')).toHaveLength(count)
    const left = await relay.app.db
      .selectFrom('messages')
      .select('id')
      .where('sender_id', '=', alice.user.id)
      .where('deleted_at', 'is', null)
      .execute()
    expect(left).toEqual([])
  })

  it("the relay's upkeep finishes an erasure that was cut short", async ({ relay }) => {
    const [alice, bob] = await registerContacts(relay.url)
    const sent = await sendMessage(alice, bob, 'half erased')
    // What a relay that stopped right after the first step leaves: marked, nothing else done.
    await markedOnly(relay, alice)
    expect((await relay.app.services.account.maintain()).resumed).toBe(1)
    const page = await http<{ messages: Message[] }>(relay.url, 'GET', `/messages?with=${alice.user.id}`, {
      token: bob.token,
    })
    expect(page.body.messages.find((m) => m.id === sent.message.id)?.deletedAt).not.toBeNull()
    expect(await contactsOf(bob)).toEqual([])
    expect((await http(relay.url, 'GET', '/session', { token: alice.token })).status).toBe(401)
    expect((await relay.app.services.account.maintain()).resumed).toBe(0)
  })

  it('parley-relay admin user erase does the same from outside, is audited, and running it twice is harmless', {
    timeout: CLI_TEST_MS,
  }, async ({ relay }) => {
    const [alice, bob] = await registerContacts(relay.url)
    const sent = await sendMessage(alice, bob, 'soon gone')
    const socket = await connect(relay.url, alice.token)
    const ended = nextEvent(socket, 'session_ended', () => true, 20_000)

    const first = await admin(relay, ['user', 'erase', alice.user.username])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(/1 session\(s\) signed out, 1 message\(s\) deleted/)
    await ended
    socket.close()

    const page = await http<{ messages: Message[] }>(relay.url, 'GET', `/messages?with=${alice.user.id}`, {
      token: bob.token,
    })
    expect(page.body.messages.find((m) => m.id === sent.message.id)?.deletedAt).not.toBeNull()
    const feed = await feedOf(bob)
    expect(feed.some((e) => e.type === 'message_deleted' && (e.data as Message).id === sent.message.id)).toBe(
      true,
    )
    expect(feed.some((e) => e.type === 'contact_removed' && e.data.userId === alice.user.id)).toBe(true)

    const second = await admin(relay, ['user', 'erase', alice.user.username])
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/0 session\(s\) signed out, 0 message\(s\) deleted/)
    // Bob heard of it once.
    expect((await feedOf(bob)).filter((e) => e.type === 'contact_removed')).toHaveLength(1)

    const audit = await admin(relay, ['audit'])
    expect(audit.stdout).toMatch(new RegExp(`user\\.erase\\t\\{"userId":${alice.user.id}`))
    // The operator still finds the account (until its username is released), marked erased.
    const listed = await admin(relay, ['user', 'list', '--q', alice.user.username])
    expect(listed.stdout).toMatch(new RegExp(`${alice.user.username}\\b.*\\berased\\b`))
  })

  it('the erased account cannot be befriended again by id, and new contacts are unaffected', async ({
    relay,
  }) => {
    const [alice, bob] = await registerContacts(relay.url)
    const carol = await registerUser(relay.url)
    expect((await erase(alice)).status).toBe(204)
    await befriend(bob, carol)
    expect((await sendMessage(bob, carol, 'still fine')).message.text).toBe('still fine')
    const accept = await http<{ error: { code: string } }>(relay.url, 'PATCH', `/contacts/${alice.user.id}`, {
      token: bob.token,
      body: { status: 'accepted' },
    })
    expect(accept.status).toBeGreaterThanOrEqual(400)
  })

  it('an erased owner leaves every group as a leave would: the longest-serving admin takes over, members see "left" and tombstones live and on catch-up', async ({
    relay,
  }) => {
    const [alice, bob, carol] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(alice, [bob!, carol!])
    // Carol is an admin, so she takes over although bob has served as long (and has the lower id).
    await http(relay.url, 'PATCH', `/groups/${group.id}/members/${carol!.user.id}`, {
      token: alice.token,
      body: { role: 'admin' },
    })
    const first = await sendToGroup(alice, group.id, 'from alice, one')
    const second = await sendToGroup(alice, group.id, 'from alice, two')
    const fromBob = await sendToGroup(bob!, group.id, 'from bob')
    await relay.app.services.messages.react(alice.user.id, { messageId: fromBob.message.id, emoji: '🎉' })
    await relay.app.services.messages.receipt(alice.user.id, 'read', {
      group: group.id,
      upTo: fromBob.message.id,
    })
    const invite = await makeInvite(alice, group.id)
    const aliceSocket = await connect(relay.url, alice.token)
    const aliceHeard = record(aliceSocket, 'group_event')
    const bobSocket = await connect(relay.url, bob!.token)
    const heard = record(bobSocket, 'group_event')
    const handedOver = nextEvent(
      bobSocket,
      'group_event',
      (e) => e.type === 'group_updated' && e.data.change.kind === 'role',
    )
    const before = (await groupLog(bob!, group.id)).body.events.length

    expect((await erase(alice)).status).toBe(204)
    await handedOver
    aliceSocket.close()
    bobSocket.close()

    // Live: the tombstones, the reaction gone, "left", the hand-over, in the log's order.
    const summary = (e: GroupEvent) =>
      e.type === 'group_updated' ? changesOf([e])[0] : `${e.type} ${(e.data as Message).id}`
    expect(heard.map(summary)).toEqual([
      `reaction ${fromBob.message.id}`,
      `message_deleted ${first.message.id}`,
      `message_deleted ${second.message.id}`,
      `-${alice.user.id} by ${alice.user.id}`,
      `${carol!.user.id} owner by ${alice.user.id}`,
    ])
    // Alice's sockets left the room (and were cut): nothing of the group reached them.
    expect(aliceHeard).toEqual([])

    // On catch-up: the same entries, after what carol had before.
    const log = (await groupLog(carol!, group.id)).body.events
    expect(log.slice(before).map(summary)).toEqual(heard.map(summary))
    const deleted = log.filter((e) => e.type === 'message_deleted').map((e) => e.data as Message)
    expect(deleted.map((m) => [m.id, m.text, m.deletedAt !== null])).toEqual([
      [first.message.id, null, true],
      [second.message.id, null, true],
    ])
    const reaction = log.find((e) => e.type === 'reaction')?.data as Message
    expect(reaction.reactions).toEqual([])
    const page = await http<{ messages: Message[] }>(relay.url, 'GET', `/messages?group=${group.id}`, {
      token: bob!.token,
    })
    expect(page.body.messages.map((m) => [m.text, m.reactions.length])).toEqual([
      ['from bob', 0],
      [null, 0],
      [null, 0],
    ])

    const now = await http<{ group: Group }>(relay.url, 'GET', `/groups/${group.id}`, { token: bob!.token })
    // Members who joined together are listed in no particular order.
    const roles = new Map(now.body.group.members?.map((m) => [m.userId, m.role]))
    expect(roles).toEqual(
      new Map([
        [bob!.user.id, 'member'],
        [carol!.user.id, 'owner'],
      ]),
    )
    // Her membership (with its markers) is gone, and her invite no longer lets anyone in.
    const rows = await relay.app.db
      .selectFrom('group_members')
      .selectAll()
      .where('user_id', '=', alice.user.id)
      .execute()
    expect(rows).toEqual([])
    const preview = await http<{ error: { code: string } }>(relay.url, 'GET', `/invites/${invite.code}`, {
      token: bob!.token,
    })
    expect(preview.status).toBe(404)
    expect(preview.body.error.code).toBe('invite_not_found')
    const inviteRow = await relay.app.db
      .selectFrom('group_invites')
      .selectAll()
      .where('code', '=', invite.code)
      .executeTakeFirstOrThrow()
    expect(inviteRow.revoked_at).not.toBeNull()

    // Erasing again changes nothing in the group.
    const again = await relay.app.services.account.erase(alice.user.id)
    expect(again).toMatchObject({ groupsLeft: 0, messagesDeleted: 0, reactionsRemoved: 0, invitesRevoked: 0 })
    expect((await groupLog(carol!, group.id)).body.events).toHaveLength(log.length)
  })

  it("the relay's upkeep finishes the group part too: with no admin the longest-serving member takes over", async ({
    relay,
  }) => {
    const [alice, bob, carol] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(alice, [bob!])
    await http(relay.url, 'POST', `/groups/${group.id}/members`, {
      token: alice.token,
      body: { userIds: [carol!.user.id] },
    })
    const sent = await sendToGroup(alice, group.id, 'half erased')
    await markedOnly(relay, alice)
    expect((await relay.app.services.account.maintain()).resumed).toBe(1)
    const log = (await groupLog(carol!, group.id)).body.events
    expect(changesOf(log).slice(-2)).toEqual([
      `-${alice.user.id} by ${alice.user.id}`,
      `${bob!.user.id} owner by ${alice.user.id}`,
    ])
    const tombstone = log.find((e) => e.type === 'message_deleted')
    expect((tombstone?.data as Message | undefined)?.id).toBe(sent.message.id)
    expect((await relay.app.services.account.maintain()).resumed).toBe(0)
  })
})
