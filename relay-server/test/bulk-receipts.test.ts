import { randomUUID } from 'node:crypto'
import type { FeedEvent } from '@parley/shared'
import { describe, expect } from 'vitest'
import { befriend, registerContacts, registerUser, sendMessage } from './helpers/client'
import { dialects } from './helpers/dialects'
import { feedOf } from './helpers/groups'
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
})
