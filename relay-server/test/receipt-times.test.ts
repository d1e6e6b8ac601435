import type { FeedEvent, MessageReceiptsResponse } from '@parley/shared'
import { describe, expect } from 'vitest'
import {
  connect,
  emit,
  http,
  registerContacts,
  registerUser,
  sendMessage,
  type TestUser,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import { createGroup, feedOf, ownerWithContacts, sendToGroup } from './helpers/groups'
import { relayTests, type TestRelay } from './helpers/relay'

// The relay's clock, set by each step, so every receipt's time is known exactly.
let now = 1_767_225_600_000
const withRelay = relayTests({ clock: () => now })

/** Sends a receipt over a socket at the relay time `at`. */
async function receipt(
  relay: TestRelay,
  user: TestUser,
  kind: 'delivered' | 'read',
  where: { with: number } | { group: number },
  upTo: number,
  at: number,
) {
  now = at
  const socket = await connect(relay.url, user.token)
  try {
    return await emit(socket, kind, { ...where, upTo })
  } finally {
    socket.close()
  }
}

const receiptsOf = (relay: TestRelay, user: TestUser, messageId: number) =>
  http<MessageReceiptsResponse>(relay.url, 'GET', `/messages/${messageId}/receipts`, { token: user.token })

async function marks(relay: TestRelay): Promise<number> {
  const row = await relay.app.db
    .selectFrom('receipt_marks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

describe.each(dialects)('receipt times (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('a 1:1 sender learns when the other person first received and read each message, and nobody else does', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const first = (await sendMessage(ann, ben, 'one')).message.id
    const second = (await sendMessage(ann, ben, 'two')).message.id
    const t0 = now
    await receipt(relay, ben, 'delivered', { with: ann.user.id }, second, t0 + 1_000)
    await receipt(relay, ben, 'read', { with: ann.user.id }, first, t0 + 60_000)
    // Again, and backwards: nothing moves, so no time changes.
    expect(await receipt(relay, ben, 'read', { with: ann.user.id }, first, t0 + 90_000)).toEqual({
      ok: true,
      seq: null,
    })
    await receipt(relay, ben, 'read', { with: ann.user.id }, second, t0 + 120_000)

    expect((await receiptsOf(relay, ann, first)).body).toEqual({
      read: [ben.user.id],
      delivered: [],
      times: {
        delivered: [{ userId: ben.user.id, at: t0 + 1_000 }],
        read: [{ userId: ben.user.id, at: t0 + 60_000 }],
      },
    })
    expect((await receiptsOf(relay, ann, second)).body.times).toEqual({
      delivered: [{ userId: ben.user.id, at: t0 + 1_000 }],
      read: [{ userId: ben.user.id, at: t0 + 120_000 }],
    })

    // A message read straight away (no delivered receipt first) was received when it was read.
    const third = (await sendMessage(ann, ben, 'three')).message.id
    await receipt(relay, ben, 'read', { with: ann.user.id }, third, t0 + 200_000)
    expect((await receiptsOf(relay, ann, third)).body.times).toEqual({
      delivered: [{ userId: ben.user.id, at: t0 + 200_000 }],
      read: [{ userId: ben.user.id, at: t0 + 200_000 }],
    })
    // Not delivered yet: no time.
    const fourth = (await sendMessage(ann, ben, 'four')).message.id
    expect((await receiptsOf(relay, ann, fourth)).body).toEqual({
      read: [],
      delivered: [],
      times: { delivered: [], read: [] },
    })

    // The feed's events carry the time too, for both of them.
    const annReads = (await feedOf(ann)).filter(
      (e): e is Extract<FeedEvent, { type: 'read' }> => e.type === 'read',
    )
    expect(annReads.map((e) => e.data.at)).toEqual([t0 + 60_000, t0 + 120_000, t0 + 200_000])

    // Only the sender asks: the recipient is told it is not theirs; a stranger, that it does not exist.
    expect((await receiptsOf(relay, ben, first)).body).toMatchObject({
      error: { code: 'not_message_sender' },
    })
    const stranger = await registerUser(relay.url)
    expect((await receiptsOf(relay, stranger, first)).body).toMatchObject({
      error: { code: 'message_not_found' },
    })
  })

  it('a group sender learns when each member received and read; marks go with a member who leaves and with the group', async ({
    relay,
  }) => {
    const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
    const group = await createGroup(ann, [ben!, cat!])
    const where = { group: group.id }
    const t0 = now
    const sent = (await sendToGroup(ann, group.id, 'read me')).message.id
    await receipt(relay, ben!, 'delivered', where, sent, t0 + 5_000)
    await receipt(relay, cat!, 'delivered', where, sent, t0 + 7_000)
    await receipt(relay, ben!, 'read', where, sent, t0 + 30_000)

    expect((await receiptsOf(relay, ann, sent)).body).toEqual({
      read: [ben!.user.id],
      delivered: [cat!.user.id],
      times: {
        delivered: [
          { userId: ben!.user.id, at: t0 + 5_000 },
          { userId: cat!.user.id, at: t0 + 7_000 },
        ],
        read: [{ userId: ben!.user.id, at: t0 + 30_000 }],
      },
    })
    // A later message: reading it later reads the first again for nobody; the first keeps its time.
    const later = (await sendToGroup(ann, group.id, 'and me')).message.id
    await receipt(relay, ben!, 'read', where, later, t0 + 90_000)
    const again = (await receiptsOf(relay, ann, sent)).body.times
    expect(again?.read).toEqual([{ userId: ben!.user.id, at: t0 + 30_000 }])
    expect((await receiptsOf(relay, ann, later)).body.times?.read).toEqual([
      { userId: ben!.user.id, at: t0 + 90_000 },
    ])
    // A member sending marks what came before read, at that time.
    now = t0 + 120_000
    await sendToGroup(cat!, group.id, 'me too')
    expect((await receiptsOf(relay, ann, later)).body.times?.read).toEqual([
      { userId: ben!.user.id, at: t0 + 90_000 },
      { userId: cat!.user.id, at: t0 + 120_000 },
    ])

    // Members who are not the sender are told it is not theirs.
    expect((await receiptsOf(relay, ben!, sent)).body).toMatchObject({
      error: { code: 'not_message_sender' },
    })

    // Cat leaves: her marks go with her membership.
    const catMarks = () =>
      relay.app.db
        .selectFrom('receipt_marks')
        .select('user_id')
        .where('user_id', '=', cat!.user.id)
        .where('group_id', '=', group.id)
        .execute()
    expect((await catMarks()).length).toBeGreaterThan(0)
    await http(relay.url, 'DELETE', `/groups/${group.id}/members/${cat!.user.id}`, { token: cat!.token })
    expect(await catMarks()).toEqual([])
    expect((await receiptsOf(relay, ann, later)).body.read).toEqual([ben!.user.id])

    // The group is deleted: all of its marks go.
    const before = await marks(relay)
    await http(relay.url, 'DELETE', `/groups/${group.id}`, { token: ann.token })
    const left = await relay.app.db
      .selectFrom('receipt_marks')
      .select('user_id')
      .where('group_id', '=', group.id)
      .execute()
    expect(left).toEqual([])
    expect(await marks(relay)).toBeLessThan(before)
  })

  it('an erased account takes its marks along', async ({ relay }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const sent = (await sendMessage(ann, ben, 'bye')).message.id
    await receipt(relay, ben, 'read', { with: ann.user.id }, sent, now + 1)
    const bens = () =>
      relay.app.db.selectFrom('receipt_marks').select('up_to').where('user_id', '=', ben.user.id).execute()
    expect(await bens()).toEqual([{ up_to: sent }])
    const erased = await http(relay.url, 'DELETE', '/users/me', {
      token: ben.token,
      body: { password: ben.password },
    })
    expect(erased.status).toBe(204)
    expect(await bens()).toEqual([])
  })

  it('one receipt covering many messages is one row', async ({ relay }) => {
    const [ann, ben] = await registerContacts(relay.url)
    let last = 0
    for (let i = 0; i < 20; i++) last = (await sendMessage(ann, ben, `m${i}`)).message.id
    const before = await marks(relay)
    await receipt(relay, ben, 'read', { with: ann.user.id }, last, now + 1)
    expect(await marks(relay)).toBe(before + 1)
  })
})
