import { randomUUID } from 'node:crypto'
import type {
  FeedEvent,
  Group,
  GroupEvent,
  GroupListResponse,
  GroupPreview,
  GroupResponse,
  Message,
  MessageReceiptsResponse,
} from '@parley/shared'
import { describe, expect } from 'vitest'
import { befriend, connect, emit, http, nextEvent, record, registerUser, sleep } from './helpers/client'
import { dialects } from './helpers/dialects'
import {
  changesOf,
  createGroup,
  feedOf,
  groupLog,
  makeInvite,
  ownerWithContacts,
  sendToGroup,
} from './helpers/groups'
import { download, makeImage, upload } from './helpers/images'
import { relayTests, type TestRelay } from './helpers/relay'

const withRelay = relayTests()
const withSmallGroups = relayTests({ env: { GROUP_MAX_MEMBERS: '3' } })

/** Rows of a table, to show what a write cost. */
async function rows(relay: TestRelay, table: 'feed_events' | 'group_events' | 'messages'): Promise<number> {
  const row = await relay.app.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

describe.each(dialects)('groups (%s)', (dialect) => {
  const it = withRelay[dialect]
  const small = withSmallGroups[dialect]

  it('creating a group makes the creator its owner and tells every member through their feed', async ({
    relay,
  }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const benSocket = await connect(relay.url, ben!.token)
    try {
      const added = nextEvent(benSocket, 'group_added')
      const created = await http<GroupResponse>(relay.url, 'POST', '/groups', {
        token: ann.token,
        body: { title: '  Book club ', memberIds: [ben!.user.id, cat!.user.id, ann.user.id] },
      })
      expect(created.status).toBe(201)
      const group = created.body.group
      expect(group).toMatchObject({
        title: 'Book club',
        avatar: null,
        createdBy: ann.user.id,
        memberCount: 3,
        role: 'owner',
        headSeq: 1,
      })
      expect(created.body.seq).toBe(1)
      expect(group.members?.map((m) => [m.userId, m.role])).toEqual([
        [ann.user.id, 'owner'],
        [ben!.user.id, 'member'],
        [cat!.user.id, 'member'],
      ])
      const live = await added
      expect(live.data).toMatchObject({ id: group.id, role: 'member', memberCount: 3, headSeq: 1 })
      expect(live.data.members).toHaveLength(3)
      const catFeed = await feedOf(cat!)
      // Members who joined together come in no fixed order (the feed reads them back from the table).
      const byUser = (g: Group) => ({
        ...g,
        members: [...(g.members ?? [])].sort((a, b) => a.userId - b.userId),
      })
      expect(catFeed.filter((e) => e.type === 'group_added').map((e) => byUser(e.data as Group))).toEqual([
        byUser({ ...group, role: 'member' }),
      ])

      const list = await http<GroupListResponse>(relay.url, 'GET', '/groups', { token: ben!.token })
      const { members: _members, ...listed } = group
      expect(list.body.groups).toEqual([{ ...listed, role: 'member' }])
      const one = await http<GroupResponse>(relay.url, 'GET', `/groups/${group.id}`, { token: cat!.token })
      expect(one.body.group.members).toHaveLength(3)
    } finally {
      benSocket.close()
    }
  })

  it("a feed row of group_added keeps no member list; the feed reads the group's members back as they are now", async ({
    relay,
  }) => {
    const [ann, ben, cat, dan] = await ownerWithContacts(relay.url, 3)
    const group = await createGroup(ann, [ben!, cat!])
    await http(relay.url, 'POST', `/groups/${group.id}/members`, {
      token: ann.token,
      body: { userIds: [dan!.user.id] },
    })
    const stored = (
      await relay.app.db
        .selectFrom('feed_events')
        .select('payload')
        .where('type', '=', 'group_added')
        .execute()
    )
      .map((row) => JSON.parse(row.payload ?? '{}'))
      .filter((data) => data.id === group.id)
    expect(stored).toHaveLength(4)
    for (const data of stored) expect(data).not.toHaveProperty('members')

    const memberIds = (events: FeedEvent[]) =>
      events.flatMap((e) => (e.type === 'group_added' ? [e.data.members?.map((m) => m.userId).sort()] : []))
    // Ben was added first; his group_added names Dan too, who came later: the log after its headSeq
    // replays Dan's arrival, and applying it twice changes nothing.
    const everyone = [ann.user.id, ben!.user.id, cat!.user.id, dan!.user.id].sort()
    expect(memberIds(await feedOf(ben!))).toEqual([everyone])
    await http(relay.url, 'DELETE', `/groups/${group.id}/members/${cat!.user.id}`, { token: cat!.token })
    // Cat has left: her feed no longer hands her the group's members.
    const catFeed = await feedOf(cat!)
    expect(memberIds(catFeed)).toEqual([undefined])
    expect(catFeed.map((e) => e.type)).toContain('group_removed')
  })

  it('only contacts who accepted the adder are added directly; nobody else sees the group', async ({
    relay,
  }) => {
    const [ann, ben] = await ownerWithContacts(relay.url, 1)
    const stranger = await registerUser(relay.url)
    const refused = await http(relay.url, 'POST', '/groups', {
      token: ann.token,
      body: { title: 'x', memberIds: [ben!.user.id, stranger.user.id] },
    })
    expect(refused.status).toBe(403)
    expect(refused.body).toMatchObject({ error: { code: 'contact_required' } })
    // Someone who blocked the adder is not added either.
    await http(relay.url, 'PATCH', `/contacts/${ann.user.id}`, {
      token: ben!.token,
      body: { status: 'blocked' },
    })
    const blocked = await http(relay.url, 'POST', '/groups', {
      token: ann.token,
      body: { title: 'x', memberIds: [ben!.user.id] },
    })
    expect(blocked.body).toMatchObject({ error: { code: 'contact_required' } })

    const group = await createGroup(ann, [])
    for (const path of [
      `/groups/${group.id}`,
      `/groups/${group.id}/events?after=0`,
      `/messages?group=${group.id}`,
    ]) {
      const result = await http(relay.url, 'GET', path, { token: stranger.token })
      expect(result.status, path).toBe(404)
      expect(result.body, path).toMatchObject({ error: { code: 'group_not_found' } })
    }
    const missing = await http(relay.url, 'GET', '/groups/987654321', { token: ann.token })
    expect(missing.body).toMatchObject({ error: { code: 'group_not_found' } })
  })

  it('a group message costs one message row and one log row, and reaches every member’s sockets live', async ({
    relay,
  }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(ann, [ben!, cat!])
    const sockets = await Promise.all([ann, ben!, cat!].map((u) => connect(relay.url, u.token)))
    try {
      const [annSocket, benSocket, catSocket] = sockets as [
        (typeof sockets)[0],
        (typeof sockets)[0],
        (typeof sockets)[0],
      ]
      await sleep(100) // the sockets join their group rooms just after connecting
      const atBen = nextEvent(benSocket, 'group_event', (e) => e.type === 'message')
      const atCat = nextEvent(catSocket, 'group_event', (e) => e.type === 'message')
      const feedBefore = await rows(relay, 'feed_events')
      const logBefore = await rows(relay, 'group_events')
      const messagesBefore = await rows(relay, 'messages')
      const clientId = randomUUID()
      const ack = await emit(annSocket, 'message', { clientId, groupId: group.id, text: 'Hello group' })
      if (!ack.ok) throw new Error(ack.error.message)
      expect(ack.message).toMatchObject({ senderId: ann.user.id, recipientId: null, groupId: group.id })
      expect(ack.seq).toBe(2)
      const [ben1, cat1] = await Promise.all([atBen, atCat])
      expect(ben1).toEqual({
        groupId: group.id,
        seq: 2,
        type: 'message',
        createdAt: expect.any(Number),
        data: ack.message,
      })
      expect(cat1).toEqual(ben1)
      expect(await rows(relay, 'messages')).toBe(messagesBefore + 1)
      expect(await rows(relay, 'group_events')).toBe(logBefore + 1)
      expect(await rows(relay, 'feed_events')).toBe(feedBefore)

      // A resend after a lost ack returns the first message and its seq, and writes nothing.
      const again = await emit(annSocket, 'message', { clientId, groupId: group.id, text: 'Hello group' })
      expect(again).toEqual({ ok: true, message: ack.message, seq: 2 })
      const conflict = await emit(annSocket, 'message', { clientId, groupId: group.id, text: 'Other' })
      expect(conflict).toMatchObject({ ok: false, error: { code: 'client_id_conflict' } })
      expect(await rows(relay, 'group_events')).toBe(logBefore + 1)

      const page = await http<{ messages: Message[] }>(relay.url, 'GET', `/messages?group=${group.id}`, {
        token: cat!.token,
      })
      expect(page.body.messages).toEqual([ack.message])
      const both = await http(relay.url, 'POST', '/messages', {
        token: ann.token,
        body: { clientId: randomUUID(), groupId: group.id, recipientId: ben!.user.id, text: 'x' },
      })
      expect(both.body).toMatchObject({ error: { code: 'validation_failed' } })
    } finally {
      for (const s of sockets) s.close()
    }
  })

  it('the log keeps one order of messages and membership changes, and a newcomer reads it from their joining on', async ({
    relay,
  }) => {
    const [ann, ben, cat, dan] = await ownerWithContacts(relay.url, 3)
    const group = await createGroup(ann, [ben!])
    const benSocket = await connect(relay.url, ben!.token)
    try {
      await sleep(100)
      const live = record(benSocket, 'group_event')
      await sendToGroup(ann, group.id, 'one')
      await sendToGroup(ben!, group.id, 'two')
      const added = await http<{ added: unknown[]; seq: number }>(
        relay.url,
        'POST',
        `/groups/${group.id}/members`,
        {
          token: ann.token,
          body: { userIds: [cat!.user.id, ben!.user.id] },
        },
      )
      expect(added.body.added).toEqual([
        { userId: cat!.user.id, role: 'member', joinedAt: expect.any(Number) },
      ])
      const three = await sendToGroup(cat!, group.id, 'three')
      await http(relay.url, 'DELETE', `/groups/${group.id}/members/${cat!.user.id}`, { token: cat!.token })
      await sendToGroup(ann, group.id, 'four')

      const log = await groupLog(ben!, group.id)
      expect(log.status).toBe(200)
      const seqs = log.body.events.map((e) => e.seq)
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7])
      expect(log.body.head).toBe(7)
      expect(log.body.events.map(describeEvent)).toEqual([
        `+${ann.user.id},${ben!.user.id} created by ${ann.user.id}`,
        'one',
        'two',
        `+${cat!.user.id} added by ${ann.user.id}`,
        'three',
        `-${cat!.user.id} by ${cat!.user.id}`,
        'four',
      ])
      await expect.poll(() => live.length).toBe(6)
      expect(live).toEqual(log.body.events.slice(1))

      // Paging: two at a time, nothing lost or repeated.
      const paged: GroupEvent[] = []
      let after = 0
      for (;;) {
        const page = await groupLog(ben!, group.id, after, 2)
        paged.push(...page.body.events)
        after = page.body.cursor
        if (!page.body.hasMore) break
      }
      expect(paged).toEqual(log.body.events)

      // Dan joins late: he reads from the entry that added him, without the messages before it.
      await http(relay.url, 'POST', `/groups/${group.id}/members`, {
        token: ann.token,
        body: { userIds: [dan!.user.id] },
      })
      const dansLog = await groupLog(dan!, group.id)
      expect(dansLog.body.events.map(describeEvent)).toEqual([`+${dan!.user.id} added by ${ann.user.id}`])
      const dansPage = await http<{ messages: Message[] }>(relay.url, 'GET', `/messages?group=${group.id}`, {
        token: dan!.token,
      })
      expect(dansPage.body.messages).toEqual([])
      const old = await http(relay.url, 'GET', `/messages/${three.message.id}/history`, { token: dan!.token })
      expect(old.body).toMatchObject({ error: { code: 'message_not_found' } })
    } finally {
      benSocket.close()
    }
  })

  it('a newcomer hears nothing live of messages sent before they joined, not even their edits', async ({
    relay,
  }) => {
    const [ann, ben, dan] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(ann, [ben!])
    const old = await sendToGroup(ann, group.id, 'before Dan')
    await http(relay.url, 'POST', `/groups/${group.id}/members`, {
      token: ann.token,
      body: { userIds: [dan!.user.id] },
    })
    const benSocket = await connect(relay.url, ben!.token)
    const danSocket = await connect(relay.url, dan!.token)
    try {
      await sleep(100)
      const atDan = record(danSocket, 'group_event')
      const atBen = nextEvent(benSocket, 'group_event', (e) => e.type === 'message_updated')
      await http(relay.url, 'PATCH', `/messages/${old.message.id}`, {
        token: ann.token,
        body: { text: 'edited' },
      })
      expect((await atBen).data).toMatchObject({ id: old.message.id, text: 'edited' })
      const fresh = await sendToGroup(ann, group.id, 'after Dan')
      await expect.poll(() => atDan.length).toBe(1)
      expect(atDan[0]).toMatchObject({ type: 'message', data: { id: fresh.message.id } })
    } finally {
      benSocket.close()
      danSocket.close()
    }
  })

  it('a removed member gets nothing of the group afterwards, and 404 for it', async ({ relay }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(ann, [ben!, cat!])
    const kept = await sendToGroup(ann, group.id, 'before')
    const benSocket = await connect(relay.url, ben!.token)
    try {
      await sleep(100)
      const removed = nextEvent(benSocket, 'group_removed')
      const seen = record(benSocket, 'group_event')
      const result = await http<{ seq: number }>(
        relay.url,
        'DELETE',
        `/groups/${group.id}/members/${ben!.user.id}`,
        {
          token: ann.token,
        },
      )
      expect(result.status).toBe(200)
      expect((await removed).data).toEqual({ groupId: group.id, by: ann.user.id, reason: 'removed' })
      await sendToGroup(ann, group.id, 'after')
      await sendToGroup(cat!, group.id, 'after too')
      await sleep(300)
      expect(seen.filter((e) => e.type === 'message')).toEqual([])
      for (const path of [
        `/groups/${group.id}`,
        `/groups/${group.id}/events?after=0`,
        `/messages?group=${group.id}`,
        `/messages/${kept.message.id}/history`,
      ]) {
        const answer = await http(relay.url, 'GET', path, { token: ben!.token })
        expect(answer.status, path).toBe(404)
      }
      const send = await emit(benSocket, 'message', {
        clientId: randomUUID(),
        groupId: group.id,
        text: 'hey',
      })
      expect(send).toMatchObject({ ok: false, error: { code: 'group_not_found' } })
      const list = await http<GroupListResponse>(relay.url, 'GET', '/groups', { token: ben!.token })
      expect(list.body.groups).toEqual([])
      // Removing again changes nothing.
      const again = await http(relay.url, 'DELETE', `/groups/${group.id}/members/${ben!.user.id}`, {
        token: ann.token,
      })
      expect(again.body).toEqual({ seq: null })
    } finally {
      benSocket.close()
    }
  })

  it('roles: admins manage, members do not, nobody demotes or removes the owner, the owner hands over', async ({
    relay,
  }) => {
    const [ann, ben, cat, dan] = await ownerWithContacts(relay.url, 3)
    await befriend(ben!, dan!)
    const group = await createGroup(ann, [ben!, cat!])
    const as = (user: typeof ann, method: string, path: string, body?: unknown) =>
      http(relay.url, method, path, { token: user.token, ...(body !== undefined && { body }) })

    expect(
      (await as(ben!, 'POST', `/groups/${group.id}/members`, { userIds: [dan!.user.id] })).body,
    ).toMatchObject({
      error: { code: 'not_group_admin' },
    })
    expect((await as(ben!, 'PATCH', `/groups/${group.id}`, { title: 'mine' })).body).toMatchObject({
      error: { code: 'not_group_admin' },
    })
    expect((await as(ben!, 'DELETE', `/groups/${group.id}/members/${cat!.user.id}`)).status).toBe(403)
    expect(
      (await as(ben!, 'PATCH', `/groups/${group.id}/members/${ben!.user.id}`, { role: 'admin' })).status,
    ).toBe(403)

    const promoted = await as(ann, 'PATCH', `/groups/${group.id}/members/${ben!.user.id}`, { role: 'admin' })
    expect(promoted.body).toMatchObject({
      member: { userId: ben!.user.id, role: 'admin' },
      seq: expect.any(Number),
    })
    expect((await feedOf(ben!)).at(-1)).toMatchObject({
      type: 'group_updated',
      data: {
        groupId: group.id,
        by: ann.user.id,
        change: { kind: 'role', userId: ben!.user.id, role: 'admin' },
      },
    })
    // An admin adds their own contacts, renames, and cannot touch the owner.
    expect((await as(ben!, 'POST', `/groups/${group.id}/members`, { userIds: [dan!.user.id] })).status).toBe(
      200,
    )
    expect((await as(ben!, 'PATCH', `/groups/${group.id}`, { title: 'Renamed' })).body).toMatchObject({
      group: { title: 'Renamed' },
    })
    expect((await as(ben!, 'DELETE', `/groups/${group.id}/members/${ann.user.id}`)).body).toMatchObject({
      error: { code: 'forbidden' },
    })
    expect(
      (await as(ben!, 'PATCH', `/groups/${group.id}/members/${ann.user.id}`, { role: 'member' })).body,
    ).toMatchObject({
      error: { code: 'forbidden' },
    })
    expect(
      (await as(ben!, 'PATCH', `/groups/${group.id}/members/${cat!.user.id}`, { role: 'owner' })).body,
    ).toMatchObject({
      error: { code: 'not_group_admin' },
    })
    expect(
      (await as(ann, 'PATCH', `/groups/${group.id}/members/${ann.user.id}`, { role: 'member' })).status,
    ).toBe(403)

    // The owner hands over to Cat and becomes an admin.
    const handed = await as(ann, 'PATCH', `/groups/${group.id}/members/${cat!.user.id}`, { role: 'owner' })
    expect(handed.body).toMatchObject({ member: { userId: cat!.user.id, role: 'owner' } })
    const members = (
      await http<GroupResponse>(relay.url, 'GET', `/groups/${group.id}`, { token: dan!.token })
    ).body.group.members!
    expect(new Map(members.map((m) => [m.userId, m.role]))).toEqual(
      new Map([
        [ann.user.id, 'admin'],
        [ben!.user.id, 'admin'],
        [cat!.user.id, 'owner'],
        [dan!.user.id, 'member'],
      ]),
    )
    const log = (await groupLog(dan!, group.id)).body.events
    expect(changesOf(log)).toEqual([
      `+${dan!.user.id} added by ${ben!.user.id}`,
      'title by ' + ben!.user.id,
      `${cat!.user.id} owner by ${ann.user.id}`,
      `${ann.user.id} admin by ${ann.user.id}`,
    ])
  })

  it('when the owner leaves, the longest-serving admin takes over, else the longest-serving member', async ({
    relay,
  }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(ann, [ben!])
    await http(relay.url, 'POST', `/groups/${group.id}/members`, {
      token: ann.token,
      body: { userIds: [cat!.user.id] },
    })
    await http(relay.url, 'PATCH', `/groups/${group.id}/members/${cat!.user.id}`, {
      token: ann.token,
      body: { role: 'admin' },
    })
    const left = await http(relay.url, 'DELETE', `/groups/${group.id}/members/${ann.user.id}`, {
      token: ann.token,
    })
    expect(left.status).toBe(200)
    expect((await feedOf(ann)).at(-1)).toMatchObject({
      type: 'group_removed',
      data: { groupId: group.id, by: ann.user.id, reason: 'left' },
    })
    const afterAnn = (
      await http<GroupResponse>(relay.url, 'GET', `/groups/${group.id}`, { token: ben!.token })
    ).body.group
    expect(afterAnn.members?.map((m) => [m.userId, m.role])).toEqual([
      [ben!.user.id, 'member'],
      [cat!.user.id, 'owner'],
    ])
    expect(afterAnn.memberCount).toBe(2)
    // Cat (an admin, though Ben served longer) took over; now Cat leaves and Ben, the only member, does.
    await http(relay.url, 'DELETE', `/groups/${group.id}/members/${cat!.user.id}`, { token: cat!.token })
    const log = (await groupLog(ben!, group.id)).body.events
    expect(changesOf(log).slice(-4)).toEqual([
      `-${ann.user.id} by ${ann.user.id}`,
      `${cat!.user.id} owner by ${ann.user.id}`,
      `-${cat!.user.id} by ${cat!.user.id}`,
      `${ben!.user.id} owner by ${cat!.user.id}`,
    ])
  })

  small('GROUP_MAX_MEMBERS holds on every way in: create, add and invite', async ({ relay }) => {
    const [ann, ben, cat, dan] = await ownerWithContacts(relay.url, 3)
    const tooMany = await http(relay.url, 'POST', '/groups', {
      token: ann.token,
      body: { title: 'x', memberIds: [ben!.user.id, cat!.user.id, dan!.user.id] },
    })
    expect(tooMany.status).toBe(409)
    expect(tooMany.body).toMatchObject({ error: { code: 'group_full' } })
    const group = await createGroup(ann, [ben!])
    const invite = await makeInvite(ann, group.id)
    expect((await http(relay.url, 'POST', `/invites/${invite.code}`, { token: cat!.token })).status).toBe(200)
    const add = await http(relay.url, 'POST', `/groups/${group.id}/members`, {
      token: ann.token,
      body: { userIds: [dan!.user.id] },
    })
    expect(add.body).toMatchObject({ error: { code: 'group_full' } })
    const join = await http(relay.url, 'POST', `/invites/${invite.code}`, { token: dan!.token })
    expect(join.status).toBe(409)
    expect(join.body).toMatchObject({ error: { code: 'group_full' } })
  })

  it('invite codes: letters and digits, a preview, a join; revoked, expired and used-up codes are not found', async ({
    relay,
  }) => {
    const [ann, ben] = await ownerWithContacts(relay.url, 1)
    const stranger = await registerUser(relay.url)
    const other = await registerUser(relay.url)
    const group = await createGroup(ann, [ben!], 'Open house')
    const memberTry = await http(relay.url, 'POST', `/groups/${group.id}/invites`, {
      token: ben!.token,
      body: {},
    })
    expect(memberTry.body).toMatchObject({ error: { code: 'not_group_admin' } })

    const invite = await makeInvite(ann, group.id, { maxUses: 1 })
    expect(invite.code).toMatch(/^[A-Za-z0-9]{22}$/)
    expect(invite).toMatchObject({
      groupId: group.id,
      maxUses: 1,
      uses: 0,
      expiresAt: null,
      createdBy: ann.user.id,
    })
    const preview = await http<{ group: GroupPreview }>(relay.url, 'GET', `/invites/${invite.code}`, {
      token: stranger.token,
    })
    expect(preview.body.group).toEqual({ id: group.id, title: 'Open house', avatar: null, memberCount: 2 })

    const joined = await http<GroupResponse>(relay.url, 'POST', `/invites/${invite.code}`, {
      token: stranger.token,
    })
    expect(joined.status).toBe(200)
    expect(joined.body.group).toMatchObject({ id: group.id, role: 'member', memberCount: 3 })
    expect(joined.body.seq).toBe(joined.body.group.headSeq)
    expect((await feedOf(stranger)).filter((e) => e.type === 'group_added')).toHaveLength(1)
    // Joining again, already in: nothing changes and no use is spent.
    const again = await http<GroupResponse>(relay.url, 'POST', `/invites/${invite.code}`, {
      token: stranger.token,
    })
    expect(again.body, JSON.stringify(again.body)).toMatchObject({ group: { id: group.id }, seq: null })
    // Used up.
    const usedUp = await http(relay.url, 'POST', `/invites/${invite.code}`, { token: other.token })
    expect(usedUp.status).toBe(404)
    expect(usedUp.body).toMatchObject({ error: { code: 'invite_not_found' } })
    expect((await http(relay.url, 'GET', `/invites/${invite.code}`, { token: other.token })).status).toBe(404)

    const expired = await makeInvite(ann, group.id, { expiresAt: Date.now() - 1000 })
    expect(
      (await http(relay.url, 'POST', `/invites/${expired.code}`, { token: other.token })).body,
    ).toMatchObject({
      error: { code: 'invite_not_found' },
    })
    const revoked = await makeInvite(ann, group.id)
    const listed = await http<{ invites: { code: string }[] }>(
      relay.url,
      'GET',
      `/groups/${group.id}/invites`,
      {
        token: ann.token,
      },
    )
    expect(listed.body.invites.map((i) => i.code)).toEqual([revoked.code])
    expect(
      (await http(relay.url, 'DELETE', `/groups/${group.id}/invites/${revoked.code}`, { token: ben!.token }))
        .status,
    ).toBe(403)
    expect(
      (await http(relay.url, 'DELETE', `/groups/${group.id}/invites/${revoked.code}`, { token: ann.token }))
        .status,
    ).toBe(204)
    expect(
      (await http(relay.url, 'DELETE', `/groups/${group.id}/invites/${revoked.code}`, { token: ann.token }))
        .body,
    ).toMatchObject({
      error: { code: 'invite_not_found' },
    })
    expect(
      (await http(relay.url, 'POST', `/invites/${revoked.code}`, { token: other.token })).body,
    ).toMatchObject({
      error: { code: 'invite_not_found' },
    })
    expect(
      (await http(relay.url, 'GET', `/invites/${'A'.repeat(22)}`, { token: other.token })).body,
    ).toMatchObject({
      error: { code: 'invite_not_found' },
    })
  })

  it('a read marker is one row and one event for the reader; the group hears only the "everyone" markers', async ({
    relay,
  }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(ann, [ben!, cat!])
    const sent = await sendToGroup(ann, group.id, 'read me')
    const sockets = await Promise.all([ann, ben!, cat!].map((u) => connect(relay.url, u.token)))
    const [annSocket, benSocket, catSocket] = sockets as [
      (typeof sockets)[0],
      (typeof sockets)[0],
      (typeof sockets)[0],
    ]
    try {
      await sleep(100)
      const annReads = record(annSocket, 'read')
      const catReads = record(catSocket, 'read')
      const everyone = record(annSocket, 'group_receipts')
      const feedBefore = await rows(relay, 'feed_events')
      const ack = await emit(benSocket, 'read', { group: group.id, upTo: sent.message.id })
      expect(ack).toEqual({ ok: true, seq: expect.any(Number) })
      expect(await rows(relay, 'feed_events')).toBe(feedBefore + 1)
      const repeat = await emit(benSocket, 'read', { group: group.id, upTo: sent.message.id })
      expect(repeat).toEqual({ ok: true, seq: null })

      const seenBy = await http<MessageReceiptsResponse>(
        relay.url,
        'GET',
        `/messages/${sent.message.id}/receipts`,
        {
          token: ann.token,
        },
      )
      expect(seenBy.body).toMatchObject({ read: [ben!.user.id], delivered: [] })
      await emit(catSocket, 'delivered', { group: group.id, upTo: sent.message.id })
      const seenBy2 = await http<MessageReceiptsResponse>(
        relay.url,
        'GET',
        `/messages/${sent.message.id}/receipts`,
        {
          token: ann.token,
        },
      )
      expect(seenBy2.body).toMatchObject({ read: [ben!.user.id], delivered: [cat!.user.id] })
      const notSender = await http(relay.url, 'GET', `/messages/${sent.message.id}/receipts`, {
        token: cat!.token,
      })
      expect(notSender.body).toMatchObject({ error: { code: 'not_message_sender' } })

      // Everyone received it (the sender counts as having read their own message); not everyone read it.
      await expect
        .poll(() => everyone.at(-1), { timeout: 4000 })
        .toEqual({ groupId: group.id, deliveredUpTo: sent.message.id, readUpTo: 0 })
      await emit(catSocket, 'read', { group: group.id, upTo: sent.message.id })
      await expect
        .poll(() => everyone.at(-1), { timeout: 4000 })
        .toEqual({ groupId: group.id, deliveredUpTo: sent.message.id, readUpTo: sent.message.id })
      expect(everyone.length).toBeLessThanOrEqual(2)
      expect(annReads).toEqual([])
      expect(catReads.filter((r) => r.data.userId !== cat!.user.id)).toEqual([])
      expect((await feedOf(ben!)).filter((e) => e.type === 'read').map((e) => e.data)).toEqual([
        { userId: ben!.user.id, groupId: group.id, upTo: sent.message.id, at: expect.any(Number) },
      ])
    } finally {
      for (const s of sockets) s.close()
    }
  })

  it('typing reaches the other members online, throttled, and never the typist', async ({ relay }) => {
    const [ann, ben] = await ownerWithContacts(relay.url, 1)
    const group = await createGroup(ann, [ben!])
    const annSocket = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben!.token)
    try {
      await sleep(100)
      const atBen = record(benSocket, 'typing')
      const atAnn = record(annSocket, 'typing')
      for (let i = 0; i < 5; i++)
        expect(await emit(annSocket, 'typing', { group: group.id, typing: true })).toEqual({ ok: true })
      await emit(annSocket, 'typing', { group: group.id, typing: false })
      await expect.poll(() => atBen.length).toBe(2)
      expect(atBen).toEqual([
        { from: ann.user.id, typing: true, groupId: group.id },
        { from: ann.user.id, typing: false, groupId: group.id },
      ])
      expect(atAnn).toEqual([])
      const stranger = await registerUser(relay.url)
      const strangerSocket = await connect(relay.url, stranger.token)
      const refused = await emit(strangerSocket, 'typing', { group: group.id, typing: true })
      strangerSocket.close()
      expect(refused).toMatchObject({ ok: false, error: { code: 'group_not_found' } })
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })

  it('members edit and delete their own messages; admins delete anyone’s; reactions work as in 1:1', async ({
    relay,
  }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(ann, [ben!, cat!])
    const bens = await sendToGroup(ben!, group.id, 'mine')
    const cats = await sendToGroup(cat!, group.id, 'cat here')
    const edit = await http(relay.url, 'PATCH', `/messages/${bens.message.id}`, {
      token: cat!.token,
      body: { text: 'no' },
    })
    expect(edit.body).toMatchObject({ error: { code: 'not_message_sender' } })
    const del = await http(relay.url, 'DELETE', `/messages/${bens.message.id}`, { token: cat!.token })
    expect(del.body).toMatchObject({ error: { code: 'not_message_sender' } })
    const edited = await http<{ message: Message; seq: number }>(
      relay.url,
      'PATCH',
      `/messages/${bens.message.id}`,
      {
        token: ben!.token,
        body: { text: 'mine, edited' },
      },
    )
    expect(edited.body.message.text).toBe('mine, edited')
    const socket = await connect(relay.url, cat!.token)
    const reaction = await emit(socket, 'reaction', { messageId: bens.message.id, emoji: '👍' })
    socket.close()
    expect(reaction).toMatchObject({
      ok: true,
      message: { reactions: [{ emoji: '👍', userIds: [cat!.user.id] }] },
    })
    const moderated = await http<{ message: Message }>(relay.url, 'DELETE', `/messages/${cats.message.id}`, {
      token: ann.token,
    })
    expect(moderated.status).toBe(200)
    expect(moderated.body.message).toMatchObject({ text: null, deletedAt: expect.any(Number) })
    const log = (await groupLog(cat!, group.id)).body.events
    expect(log.slice(-5).map((e) => e.type)).toEqual([
      'message',
      'message',
      'message_updated',
      'reaction',
      'message_deleted',
    ])
    // The log shows each message as it is now.
    expect(log.at(-1)?.data).toMatchObject({ id: cats.message.id, text: null })
  })

  it('pictures: the group’s is for everyone, one in a group message for its members only', async ({
    relay,
  }) => {
    const [ann, ben] = await ownerWithContacts(relay.url, 1)
    const stranger = await registerUser(relay.url)
    const group = await createGroup(ann, [ben!])
    const avatar = await upload(relay.url, ann.token, await makeImage('png', 400, 300))
    const notMine = await http(relay.url, 'PATCH', `/groups/${group.id}`, {
      token: ben!.token,
      body: { avatarImageId: avatar.body.image.id },
    })
    expect(notMine.body).toMatchObject({ error: { code: 'not_group_admin' } })
    const patched = await http<GroupResponse>(relay.url, 'PATCH', `/groups/${group.id}`, {
      token: ann.token,
      body: { avatarImageId: avatar.body.image.id },
    })
    expect(patched.body.group.avatar).toBe(avatar.body.image.id)
    expect((await download(relay.url, ben!.token, avatar.body.image.id, { size: 'avatar' })).status).toBe(200)

    const photo = await upload(relay.url, ben!.token, await makeImage('jpeg', 640, 480))
    const sent = await http<{ message: Message }>(relay.url, 'POST', '/messages', {
      token: ben!.token,
      body: { clientId: randomUUID(), groupId: group.id, imageId: photo.body.image.id, text: 'look' },
    })
    expect(sent.body.message.image?.id).toBe(photo.body.image.id)
    expect((await download(relay.url, ann.token, photo.body.image.id, { size: 'thumb' })).status).toBe(200)
    expect((await download(relay.url, stranger.token, photo.body.image.id)).status).toBe(404)
    // Someone else's upload cannot be attached.
    const borrowed = await http(relay.url, 'POST', '/messages', {
      token: ann.token,
      body: { clientId: randomUUID(), groupId: group.id, imageId: photo.body.image.id },
    })
    expect(borrowed.body).toMatchObject({ error: { code: 'image_not_found' } })
  })

  it('presence is not shared with group members who are not contacts', async ({ relay }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(ann, [ben!, cat!])
    expect(group.memberCount).toBe(3)
    const benSocket = await connect(relay.url, ben!.token)
    try {
      const statuses = record(benSocket, 'user_status_change')
      const catSocket = await connect(relay.url, cat!.token)
      await sleep(300)
      catSocket.close()
      await sleep(300)
      expect(statuses.filter((s) => s.userId === cat!.user.id)).toEqual([])
    } finally {
      benSocket.close()
    }
  })
})

function describeEvent(e: GroupEvent): string {
  if (e.type === 'group_updated') return changesOf([e])[0]!
  return e.data.text ?? `(${e.type})`
}
