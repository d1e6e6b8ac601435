import { randomUUID } from 'node:crypto'
import type { GroupListResponse } from '@parley/shared'
import { describe, expect } from 'vitest'
import { connect, emit, http, nextEvent, record, registerUser, sleep } from './helpers/client'
import { dialects } from './helpers/dialects'
import { createGroup, feedOf, makeInvite, ownerWithContacts, sendToGroup } from './helpers/groups'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()

describe.each(dialects)('deleting a group (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('only the owner deletes a group: an admin and a member are refused, a stranger is told it does not exist', async ({
    relay,
  }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const dan = await registerUser(relay.url)
    const group = await createGroup(ann, [ben!, cat!])
    await http(relay.url, 'PATCH', `/groups/${group.id}/members/${ben!.user.id}`, {
      token: ann.token,
      body: { role: 'admin' },
    })
    const tries = await Promise.all(
      [ben!, cat!, dan].map((u) => http(relay.url, 'DELETE', `/groups/${group.id}`, { token: u.token })),
    )
    expect(tries.map((t) => [t.status, (t.body as { error: { code: string } }).error.code])).toEqual([
      [403, 'not_group_admin'],
      [403, 'not_group_admin'],
      [404, 'group_not_found'],
    ])
    const still = await http<{ group: { memberCount: number } }>(relay.url, 'GET', `/groups/${group.id}`, {
      token: cat!.token,
    })
    expect(still.body.group.memberCount).toBe(3)
  })

  it('every member hears the group was deleted, its log ends with that entry, and everything of it is 404 after', async ({
    relay,
  }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const dan = await registerUser(relay.url)
    const group = await createGroup(ann, [ben!, cat!], 'Short-lived')
    const kept = await sendToGroup(ben!, group.id, 'before the end')
    const invite = await makeInvite(ann, group.id)
    const benSocket = await connect(relay.url, ben!.token)
    try {
      await sleep(100)
      const removed = nextEvent(benSocket, 'group_removed')
      const heard = record(benSocket, 'group_event')
      const result = await http<{ seq: number }>(relay.url, 'DELETE', `/groups/${group.id}`, {
        token: ann.token,
      })
      expect(result.status).toBe(200)
      expect((await removed).data).toEqual({ groupId: group.id, by: ann.user.id, reason: 'deleted' })
      // The last entry, live to those still in the room as it was written.
      await expect.poll(() => heard.length).toBe(1)
      expect(heard[0]).toMatchObject({
        groupId: group.id,
        seq: result.body.seq,
        type: 'group_updated',
        data: { by: ann.user.id, change: { kind: 'deleted' } },
      })

      // Cat was offline: her feed says it, and so does the owner's own (for their other devices).
      for (const user of [cat!, ann]) {
        const feed = await feedOf(user)
        expect(feed.at(-1)).toMatchObject({
          type: 'group_removed',
          data: { groupId: group.id, by: ann.user.id, reason: 'deleted' },
        })
      }
      const last = await relay.app.db
        .selectFrom('group_events')
        .select(['seq', 'type', 'payload'])
        .where('group_id', '=', group.id)
        .orderBy('seq', 'desc')
        .executeTakeFirstOrThrow()
      expect(Number(last.seq)).toBe(result.body.seq)
      expect(JSON.parse(String(last.payload))).toMatchObject({ change: { kind: 'deleted' } })

      for (const user of [ann, ben!, cat!]) {
        for (const [method, path] of [
          ['GET', `/groups/${group.id}`],
          ['GET', `/groups/${group.id}/events?after=0`],
          ['GET', `/messages?group=${group.id}`],
          ['GET', `/messages/${kept.message.id}/history`],
          ['DELETE', `/groups/${group.id}`],
          ['DELETE', `/groups/${group.id}/members/${user.user.id}`],
        ] as const) {
          const answer = await http(relay.url, method, path, { token: user.token })
          expect(answer.status, `${method} ${path}`).toBe(404)
        }
        const list = await http<GroupListResponse>(relay.url, 'GET', '/groups', { token: user.token })
        expect(list.body.groups).toEqual([])
      }
      const send = await emit(benSocket, 'message', {
        clientId: randomUUID(),
        groupId: group.id,
        text: 'hello?',
      })
      expect(send).toMatchObject({ ok: false, error: { code: 'group_not_found' } })
      // Its invite codes stopped working: nobody gets into a deleted group.
      for (const method of ['GET', 'POST'] as const) {
        const answer = await http(relay.url, method, `/invites/${invite.code}`, { token: dan.token })
        expect(answer.body).toMatchObject({ error: { code: 'invite_not_found' } })
      }
      expect(heard).toHaveLength(1)
    } finally {
      benSocket.close()
    }
  })
})
