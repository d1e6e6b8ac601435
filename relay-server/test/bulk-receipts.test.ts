import { randomUUID } from 'node:crypto'
import type { FeedEvent } from '@parley/shared'
import { describe, expect } from 'vitest'
import type { TestUser } from './helpers/client'
import {
  befriend,
  connect,
  http,
  nextEvent,
  registerContacts,
  registerUser,
  sendMessage,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import { createGroup, feedOf, ownerWithContacts, sendToGroup } from './helpers/groups'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()

/** The receipt and message events of a feed, as [type, who, upTo or text], oldest first. */
function receiptsAndMessages(feed: FeedEvent[]) {
  return feed.flatMap((e) => {
    if (e.type === 'delivered' || e.type === 'read') return [[e.type, e.data.userId, e.data.upTo]]
    if (e.type === 'message') return [[e.type, e.data.senderId, e.data.text]]
    return []
  })
}

describe.each(dialects)('1:1 receipts written together (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('receipts queued in one turn, between sends, do what each alone would: repeats, refusals, feed order', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const cat = await registerUser(relay.url)
    const dan = await registerUser(relay.url)
    await befriend(cat, dan)
    const m1 = (await sendMessage(ann, ben, 'one')).message.id
    const m2 = (await sendMessage(ann, ben, 'two')).message.id
    const m3 = (await sendMessage(ann, ben, 'three')).message.id
    const d1 = (await sendMessage(cat, dan, 'to dan')).message.id
    const { messages, committer } = relay.app.services
    const before = committer.stats.transactions

    // All queued before the committer runs: one batch, so the bulk paths take them together.
    const results = await Promise.allSettled([
      messages.receipt(ben.user.id, 'delivered', { with: ann.user.id, upTo: m2 }),
      messages.send(ann.user.id, { clientId: randomUUID(), recipientId: ben.user.id, text: 'four' }),
      // Ben again in the same conversation: runs after the first and sees its marker.
      messages.receipt(ben.user.id, 'read', { with: ann.user.id, upTo: m1 }),
      // Not Ann's contact.
      messages.receipt(cat.user.id, 'delivered', { with: ann.user.id, upTo: m1 }),
      // A message of another conversation.
      messages.receipt(ann.user.id, 'delivered', { with: ben.user.id, upTo: d1 }),
      messages.receipt(ann.user.id, 'read', { with: ben.user.id, upTo: m3 }),
      messages.receipt(dan.user.id, 'read', { with: cat.user.id, upTo: d1 }),
      // Behind where Ben's marker already is: nothing moves.
      messages.receipt(ben.user.id, 'delivered', { with: ann.user.id, upTo: m1 }),
    ])
    expect(committer.stats.transactions - before).toBe(1)

    const outcome = results.map((r) =>
      r.status === 'rejected'
        ? (r.reason as { code: string }).code
        : 'seq' in r.value && !('message' in r.value)
          ? r.value.seq === null
            ? 'unmoved'
            : 'moved'
          : 'sent',
    )
    expect(outcome).toEqual([
      'moved',
      'sent',
      'moved',
      'contact_required',
      'message_not_found',
      'moved',
      'moved',
      'unmoved',
    ])

    const markers = await relay.app.db
      .selectFrom('receipts')
      .select(['owner_id', 'peer_id', 'delivered_up_to', 'read_up_to'])
      .orderBy('owner_id')
      .execute()
    expect(markers.map((m) => [m.owner_id, m.peer_id, m.delivered_up_to, m.read_up_to])).toEqual(
      [
        [ann.user.id, ben.user.id, m3, m3],
        [ben.user.id, ann.user.id, m2, m1],
        [dan.user.id, cat.user.id, d1, d1],
      ].sort((x, y) => x[0]! - y[0]!),
    )
    const marks = await relay.app.db
      .selectFrom('receipt_marks')
      .select(['user_id', 'peer_id', 'kind', 'up_to'])
      .orderBy('user_id')
      .orderBy('kind')
      .execute()
    expect(marks.map((m) => [m.user_id, m.peer_id, m.kind, m.up_to])).toEqual(
      [
        [ann.user.id, ben.user.id, 'read', m3],
        [ben.user.id, ann.user.id, 'delivered', m2],
        [ben.user.id, ann.user.id, 'read', m1],
        [dan.user.id, cat.user.id, 'read', d1],
      ].sort((x, y) => Number(x[0]) - Number(y[0])),
    )

    // Ben's feed has this batch's events in the order they were queued, though the receipts'
    // statements ran before the send's.
    expect(receiptsAndMessages(await feedOf(ben)).slice(-4)).toEqual([
      ['delivered', ben.user.id, m2],
      ['message', ann.user.id, 'four'],
      ['read', ben.user.id, m1],
      ['read', ann.user.id, m3],
    ])
    const annFeed = await feedOf(ann)
    expect(annFeed.map((e) => e.seq)).toEqual(annFeed.map((_, i) => i + 1))
    expect(receiptsAndMessages(annFeed).slice(-4)).toEqual([
      ['delivered', ben.user.id, m2],
      ['message', ann.user.id, 'four'],
      ['read', ben.user.id, m1],
      ['read', ann.user.id, m3],
    ])
  })

  it('group receipts queued in one turn do what each alone would: repeats, refusals, markers, marks, feeds, the "everyone" markers', async ({
    relay,
  }) => {
    const [ann, ben, cat, dan] = (await ownerWithContacts(relay.url, 3)) as [
      TestUser,
      TestUser,
      TestUser,
      TestUser,
    ]
    const stranger = await registerUser(relay.url)
    const group = await createGroup(ann, [ben, cat])
    const other = await createGroup(ann, [dan], 'Other')
    const g1 = (await sendToGroup(ann, group.id, 'g1')).message.id
    const g2 = (await sendToGroup(ann, group.id, 'g2')).message.id
    const h1 = (await sendToGroup(ann, other.id, 'h1')).message.id
    // Dan joins after g1 and g2: they are not his to mark.
    await http(relay.url, 'POST', `/groups/${group.id}/members`, {
      token: ann.token,
      body: { userIds: [dan.user.id] },
    })
    const g3 = (await sendToGroup(ann, group.id, 'g3')).message.id
    const annSocket = await connect(relay.url, ann.token)
    try {
      const everyone = nextEvent(annSocket, 'group_receipts', (e) => e.groupId === group.id)
      const { groups, committer } = relay.app.services
      // Rows compared in one order, whatever ids the users got.
      const sortedRows = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort()
      const allMarks = async () =>
        sortedRows(
          (
            await relay.app.db
              .selectFrom('receipt_marks')
              .select(['group_id', 'user_id', 'peer_id', 'kind', 'up_to'])
              .execute()
          ).map((m) => [m.group_id, m.user_id, m.peer_id, m.kind, m.up_to]),
        )
      const marksBefore = await allMarks()
      const before = committer.stats.transactions
      const results = await Promise.allSettled([
        groups.receipt(ben.user.id, 'delivered', group.id, g2),
        groups.receipt(cat.user.id, 'read', group.id, g1),
        // Ben again in the same group: runs after the first and sees its marker.
        groups.receipt(ben.user.id, 'read', group.id, g1),
        groups.receipt(dan.user.id, 'delivered', group.id, g1),
        groups.receipt(dan.user.id, 'delivered', group.id, h1),
        groups.receipt(stranger.user.id, 'delivered', group.id, g1),
        // Reading g1 already delivered it: nothing moves.
        groups.receipt(cat.user.id, 'delivered', group.id, g1),
        groups.receipt(dan.user.id, 'delivered', other.id, h1),
        // Her own message: sending it moved her markers already.
        groups.receipt(ann.user.id, 'delivered', group.id, g3),
      ])
      expect(committer.stats.transactions - before).toBe(1)
      expect(
        results.map((r) =>
          r.status === 'rejected'
            ? (r.reason as { code: string }).code
            : r.value.seq === null
              ? 'unmoved'
              : 'moved',
        ),
      ).toEqual([
        'moved',
        'moved',
        'moved',
        'message_not_found',
        'message_not_found',
        'group_not_found',
        'unmoved',
        'moved',
        'unmoved',
      ])

      const markers = await relay.app.db
        .selectFrom('group_members')
        .select(['group_id', 'user_id', 'delivered_up_to', 'read_up_to'])
        .execute()
      expect(
        sortedRows(markers.map((m) => [m.group_id, m.user_id, m.delivered_up_to, m.read_up_to])),
      ).toEqual(
        sortedRows([
          // Sending moves the sender's markers; joining puts Dan's at the group's end then (g2).
          [group.id, ann.user.id, g3, g3],
          [group.id, ben.user.id, g2, g1],
          [group.id, cat.user.id, g1, g1],
          [group.id, dan.user.id, g2, g2],
          [other.id, ann.user.id, h1, h1],
          [other.id, dan.user.id, h1, 0],
        ]),
      )
      // The marks this batch made (sending made the sender's own before it).
      expect((await allMarks()).filter((row) => !marksBefore.includes(row))).toEqual(
        sortedRows([
          [group.id, ben.user.id, null, 'delivered', g2],
          [group.id, ben.user.id, null, 'read', g1],
          [group.id, cat.user.id, null, 'read', g1],
          [other.id, dan.user.id, null, 'delivered', h1],
        ]),
      )
      // Each member's own devices hear of their moves, in the order queued.
      const moves = (feed: FeedEvent[]) =>
        feed.flatMap((e) => (e.type === 'delivered' || e.type === 'read' ? [[e.type, e.data.upTo]] : []))
      expect(moves(await feedOf(ben))).toEqual([
        ['delivered', g2],
        ['read', g1],
      ])
      expect(moves(await feedOf(dan))).toEqual([['delivered', h1]])
      // The group hears the "everyone" markers once the batch is in.
      expect(await everyone).toEqual({ groupId: group.id, deliveredUpTo: g1, readUpTo: g1 })
    } finally {
      annSocket.close()
    }
  })
})
