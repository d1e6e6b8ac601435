import { dmKey, groupKey } from '@parley/shared'
import { afterEach, describe, expect, it } from 'vitest'
import { applyEvents } from '../src/core/db/apply'
import {
  coalesceReceipt,
  confirmSent,
  discardFailed,
  failOp,
  insertPendingMessage,
  queueEdit,
  queueReaction,
  queueRemoval,
  retryMessage,
} from '../src/core/db/local-changes'
import type { LocalDb } from '../src/core/db/local-db'
import { moveOwnReadMarker } from '../src/core/db/tables/conversations'
import { messageRow } from '../src/core/db/tables/messages'
import { ackOp, completeOp, nextQueued, oldestHeldReceipt } from '../src/core/db/tables/outbox'
import { saveSettings, settingsOf } from '../src/core/db/tables/settings'
import { cursorOf } from '../src/core/db/tables/sync-state'
import { contactViews } from '../src/core/db/views/contacts'
import { unreadCounts } from '../src/core/db/views/conversations'
import { messagePage, messageView } from '../src/core/db/views/messages'
import { feed, ME, message, openTestDb, wireUser } from './helpers/store'

const PEER = 2
const NOW = 1_800_000_000_000
let db: LocalDb

afterEach(async () => {
  await db?.close()
})

function all(peerId = PEER) {
  return messagePage(db, ME, dmKey(peerId), {}, 500).messages.reverse()
}

describe('applying the feed', () => {
  it('applying the same page twice leaves the store as applying it once', async () => {
    db = await openTestDb()
    const page = feed(1, [
      { type: 'message', data: message({ id: 10 }) },
      { type: 'message', data: message({ id: 11, senderId: ME, recipientId: PEER }) },
      { type: 'message_updated', data: message({ id: 10, text: 'edited', editedAt: 5 }) },
      { type: 'read', data: { userId: PEER, peerId: ME, upTo: 11 } },
    ])
    applyEvents(db, ME, page, NOW)
    const once = all()
    const again = applyEvents(db, ME, page, NOW)
    expect(again.applied).toBe(0)
    expect(all()).toEqual(once)
    expect(once.map((m) => [m.id, m.text, m.state])).toEqual([
      [10, 'edited', 'delivered'],
      [11, 'message 11', 'read'],
    ])
    expect(cursorOf(db)).toBe(4)
  })

  it('passes group events over (groups are not in the desktop yet) and still moves the cursor past them', async () => {
    db = await openTestDb()
    const group = {
      id: 7,
      title: 'Club',
      avatar: null,
      createdAt: 1,
      createdBy: PEER,
      memberCount: 2,
      role: 'member' as const,
      headSeq: 1,
    }
    const summary = applyEvents(
      db,
      ME,
      feed(1, [
        { type: 'group_added', data: group },
        { type: 'message', data: message({ id: 20, recipientId: null, groupId: 7 }) },
        { type: 'read', data: { userId: ME, groupId: 7, upTo: 20 } },
        { type: 'message', data: message({ id: 21 }) },
      ]),
      NOW,
    )
    expect(cursorOf(db)).toBe(4)
    expect(all().map((m) => m.id)).toEqual([21])
    expect([...summary.messages.keys()]).toEqual([dmKey(PEER)])
  })

  it('counts messages new to this device per peer, for notifications, but not replays or your own', async () => {
    db = await openTestDb()
    const first = applyEvents(
      db,
      ME,
      feed(1, [
        { type: 'message', data: message({ id: 10 }) },
        { type: 'message', data: message({ id: 11, senderId: ME, recipientId: PEER }) },
        { type: 'message', data: message({ id: 12 }) },
        { type: 'message_updated', data: message({ id: 10, text: 'edited', editedAt: 5 }) },
      ]),
      NOW,
    )
    expect([...first.arrived]).toEqual([[dmKey(PEER), 2]])
    // The same messages again after a gap (a catch-up overlapping live events): nothing new.
    db.prepare('update sync_state set cursor = 0 where id = 1').run()
    const replay = applyEvents(db, ME, feed(1, [{ type: 'message', data: message({ id: 12 }) }]), NOW)
    expect(replay.arrived.size).toBe(0)
  })

  it('skips events at or below the cursor and applies the rest in order', async () => {
    db = await openTestDb()
    applyEvents(db, ME, feed(1, [{ type: 'message', data: message({ id: 10, text: 'first' }) }]), NOW)
    const overlapping = feed(1, [
      { type: 'message', data: message({ id: 10, text: 'stale copy' }) },
      { type: 'message', data: message({ id: 12 }) },
    ])
    const summary = applyEvents(db, ME, overlapping, NOW)
    expect(summary.applied).toBe(1)
    expect(all().map((m) => m.text)).toEqual(['first', 'message 12'])
  })

  it('a message event with the clientId of a pending message turns that row into the sent message', async () => {
    db = await openTestDb()
    const localId = insertPendingMessage(db, {
      me: ME,
      conversation: dmKey(PEER),
      recipientId: PEER,
      text: 'hi',
      clientId: 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0001',
      now: NOW,
    })
    expect(messageView(db, ME, localId)?.state).toBe('pending')
    applyEvents(
      db,
      ME,
      feed(1, [
        {
          type: 'message',
          data: message({
            id: 40,
            senderId: ME,
            recipientId: PEER,
            text: 'hi',
            clientId: 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0001',
          }),
        },
      ]),
      NOW,
    )
    const rows = all()
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ localId, id: 40, state: 'sent' })
    // The send is done: its outbox entry went with the feed event, so nothing is resent.
    expect(nextQueued(db)).toBeUndefined()
  })

  it('another user reusing one of our clientIds does not touch our message', async () => {
    db = await openTestDb()
    const clientId = 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0002'
    const localId = insertPendingMessage(db, {
      me: ME,
      conversation: dmKey(PEER),
      recipientId: PEER,
      text: 'mine',
      clientId,
      now: NOW,
    })
    applyEvents(
      db,
      ME,
      feed(1, [{ type: 'message', data: message({ id: 41, clientId, text: 'theirs' }) }]),
      NOW,
    )
    expect(messageView(db, ME, localId)).toMatchObject({ text: 'mine', state: 'pending', id: null })
    expect(all()).toHaveLength(2)
  })

  it('a delete drops the text from the store and from search', async () => {
    db = await openTestDb()
    applyEvents(db, ME, feed(1, [{ type: 'message', data: message({ id: 10, text: 'secret plans' }) }]), NOW)
    const hits = () =>
      db.prepare(`select count(*) from messages_fts where messages_fts match 'secret'`).pluck().get()
    expect(hits()).toBe(1)
    applyEvents(
      db,
      ME,
      feed(2, [{ type: 'message_deleted', data: message({ id: 10, text: null, deletedAt: 9 }) }]),
      NOW,
    )
    expect(all()[0]).toMatchObject({ text: null, deletedAt: 9 })
    expect(hits()).toBe(0)
  })

  it('receipt markers only move forward', async () => {
    db = await openTestDb()
    applyEvents(
      db,
      ME,
      feed(1, [
        { type: 'message', data: message({ id: 10, senderId: ME, recipientId: PEER }) },
        { type: 'message', data: message({ id: 11, senderId: ME, recipientId: PEER }) },
        { type: 'read', data: { userId: PEER, peerId: ME, upTo: 11 } },
        { type: 'delivered', data: { userId: PEER, peerId: ME, upTo: 10 } },
      ]),
      NOW,
    )
    expect(all().map((m) => m.state)).toEqual(['read', 'read'])
  })

  it('unread counts are the peer’s messages above the own read marker, not deleted', async () => {
    db = await openTestDb()
    applyEvents(
      db,
      ME,
      feed(1, [
        { type: 'message', data: message({ id: 10 }) },
        { type: 'message', data: message({ id: 11 }) },
        { type: 'message', data: message({ id: 12, senderId: ME, recipientId: PEER }) },
        { type: 'message', data: message({ id: 13 }) },
        { type: 'message', data: message({ id: 14, senderId: 3 }) },
        { type: 'message_deleted', data: message({ id: 13, text: null, deletedAt: 5 }) },
      ]),
      NOW,
    )
    expect(unreadCounts(db, ME)).toEqual({
      total: 3,
      conversations: [
        { conversation: 'dm:2', count: 2 },
        { conversation: 'dm:3', count: 1 },
      ],
    })
    moveOwnReadMarker(db, dmKey(PEER), 10)
    expect(unreadCounts(db, ME).total).toBe(2)
    applyEvents(db, ME, feed(7, [{ type: 'read', data: { userId: ME, peerId: 3, upTo: 14 } }]), NOW)
    expect(unreadCounts(db, ME)).toEqual({ total: 1, conversations: [{ conversation: 'dm:2', count: 1 }] })
  })

  it('received messages queue one delivered receipt per conversation, moved forward', async () => {
    db = await openTestDb()
    applyEvents(db, ME, feed(1, [{ type: 'message', data: message({ id: 10 }) }]), NOW)
    applyEvents(db, ME, feed(2, [{ type: 'message', data: message({ id: 11 }) }]), NOW)
    const ops = db.prepare(`select kind, conversation, payload from outbox`).all()
    expect(ops).toEqual([{ kind: 'delivered', conversation: dmKey(PEER), payload: '{"upTo":11}' }])
  })

  it('contact events keep the contact list; a removal takes the entry away', async () => {
    db = await openTestDb()
    const user = { id: PEER, username: 'grace', firstName: 'Grace', lastName: 'Hopper', createdAt: 1 }
    applyEvents(
      db,
      ME,
      feed(1, [
        {
          type: 'contact_added',
          data: { user: wireUser(user), status: 'outgoing', createdAt: 2, updatedAt: 2, acceptedAt: null },
        },
        {
          type: 'contact_updated',
          data: { user: wireUser(user), status: 'accepted', createdAt: 2, updatedAt: 3, acceptedAt: 3 },
        },
        { type: 'user_updated', data: wireUser({ ...user, lastName: 'Murray Hopper' }) },
      ]),
      NOW,
    )
    expect(contactViews(db)).toEqual([
      {
        user: { ...user, lastName: 'Murray Hopper', avatarImageId: null },
        status: 'accepted',
        createdAt: 2,
        updatedAt: 3,
        acceptedAt: 3,
        presence: null,
      },
    ])
    applyEvents(db, ME, feed(4, [{ type: 'contact_removed', data: { userId: PEER } }]), NOW)
    expect(contactViews(db)).toEqual([])
  })
})

describe('the outbox as the messages show it', () => {
  async function sentMessage(text = 'original') {
    db = await openTestDb()
    applyEvents(
      db,
      ME,
      feed(1, [{ type: 'message', data: message({ id: 10, senderId: ME, recipientId: PEER, text }) }]),
      NOW,
    )
    return messageRow(db, all()[0]!.localId)!
  }

  it('an edit made offline shows at once and survives a feed event carrying the old text', async () => {
    const row = await sentMessage()
    queueEdit(db, row, 'changed', NOW)
    expect(messageView(db, ME, row.local_id)).toMatchObject({ text: 'changed', changePending: true })
    applyEvents(
      db,
      ME,
      feed(2, [
        { type: 'reaction', data: message({ id: 10, senderId: ME, recipientId: PEER, text: 'original' }) },
      ]),
      NOW,
    )
    expect(messageView(db, ME, row.local_id)?.text).toBe('changed')
  })

  it('an acked change keeps showing until the feed reaches its seq', async () => {
    const row = await sentMessage()
    queueEdit(db, row, 'changed', NOW)
    const op = nextQueued(db)!
    ackOp(db, op.id, 5, cursorOf(db))
    expect(messageView(db, ME, row.local_id)?.text).toBe('changed')
    applyEvents(
      db,
      ME,
      feed(2, [
        { type: 'delivered', data: { userId: PEER, peerId: ME, upTo: 10 } },
        { type: 'delivered', data: { userId: PEER, peerId: ME, upTo: 10 } },
        { type: 'delivered', data: { userId: PEER, peerId: ME, upTo: 10 } },
        {
          type: 'message_updated',
          data: message({ id: 10, senderId: ME, recipientId: PEER, text: 'changed', editedAt: 7 }),
        },
      ]),
      NOW,
    )
    expect(messageView(db, ME, row.local_id)).toMatchObject({
      text: 'changed',
      editedAt: 7,
      changePending: false,
    })
  })

  it('editing a message that never left the device rewrites it instead of queueing an edit', async () => {
    db = await openTestDb()
    const localId = insertPendingMessage(db, {
      me: ME,
      conversation: dmKey(PEER),
      recipientId: PEER,
      text: 'typo',
      clientId: 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0003',
      now: NOW,
    })
    queueEdit(db, messageRow(db, localId)!, 'fixed', NOW)
    expect(db.prepare('select kind from outbox').pluck().all()).toEqual(['send'])
    expect(messageView(db, ME, localId)).toMatchObject({ text: 'fixed', state: 'pending' })
  })

  it('deleting a message that never left the device removes it; a sent one is tombstoned at once', async () => {
    db = await openTestDb()
    const localId = insertPendingMessage(db, {
      me: ME,
      conversation: dmKey(PEER),
      recipientId: PEER,
      text: 'oops',
      clientId: 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0004',
      now: NOW,
    })
    expect(queueRemoval(db, messageRow(db, localId)!, 'delete', NOW)).toBe('removed')
    expect(messageRow(db, localId)).toBeUndefined()
    expect(nextQueued(db)).toBeUndefined()
    await db.close()
    const row = await sentMessage()
    expect(queueRemoval(db, row, 'delete', NOW)).toBe('queued')
    expect(messageView(db, ME, row.local_id)).toMatchObject({
      text: null,
      deletedAt: NOW,
      changePending: true,
    })
  })

  it('a reaction toggled twice before it went out sends nothing', async () => {
    const row = await sentMessage()
    queueReaction(db, row, ME, '👍', NOW)
    expect(messageView(db, ME, row.local_id)?.reactions).toEqual([{ emoji: '👍', userIds: [ME] }])
    queueReaction(db, row, ME, '👍', NOW)
    expect(messageView(db, ME, row.local_id)?.reactions).toEqual([])
    expect(nextQueued(db)).toBeUndefined()
  })

  it('a failed send shows why, can be retried, and can be discarded', async () => {
    db = await openTestDb()
    const localId = insertPendingMessage(db, {
      me: ME,
      conversation: dmKey(PEER),
      recipientId: PEER,
      text: 'hi',
      clientId: 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0005',
      now: NOW,
    })
    failOp(db, nextQueued(db)!, { code: 'contact_required', message: 'not a contact' })
    expect(messageView(db, ME, localId)).toMatchObject({
      state: 'failed',
      failure: { code: 'contact_required', message: 'not a contact' },
    })
    expect(nextQueued(db)).toBeUndefined()
    expect(retryMessage(db, localId)).toBe(true)
    expect(messageView(db, ME, localId)).toMatchObject({ state: 'pending', failure: null })
    failOp(db, nextQueued(db)!, { code: 'contact_required', message: 'still not' })
    expect(discardFailed(db, localId)).toBe('removed')
    expect(all()).toEqual([])
  })

  it('a failed edit reverts to the relay’s text once discarded', async () => {
    const row = await sentMessage()
    queueEdit(db, row, 'changed', NOW)
    failOp(db, nextQueued(db)!, { code: 'message_deleted', message: 'gone' })
    expect(messageView(db, ME, row.local_id)).toMatchObject({
      text: 'original',
      failure: { code: 'message_deleted' },
    })
    expect(discardFailed(db, row.local_id)).toBe('reverted')
    expect(messageView(db, ME, row.local_id)).toMatchObject({ text: 'original', failure: null })
  })

  it('a send acked after the feed already linked the message changes nothing', async () => {
    db = await openTestDb()
    const clientId = 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0006'
    const localId = insertPendingMessage(db, {
      me: ME,
      conversation: dmKey(PEER),
      recipientId: PEER,
      text: 'hi',
      clientId,
      now: NOW,
    })
    const op = nextQueued(db)!
    applyEvents(
      db,
      ME,
      feed(1, [
        { type: 'message', data: message({ id: 50, senderId: ME, recipientId: PEER, clientId, text: 'hi' }) },
      ]),
      NOW,
    )
    confirmSent(db, op.id, localId, { id: 50, createdAt: 5 })
    expect(all()).toHaveLength(1)
    expect(messageView(db, ME, localId)).toMatchObject({ id: 50, state: 'sent' })
  })
})

describe("a group's delivered receipts wait in the outbox", () => {
  const HOLD = 1000
  const next = (now: number) => nextQueued(db, now - HOLD)

  it('a held one is passed over until its time; what arrives meanwhile moves it forward; other receipts go at once', async () => {
    db = await openTestDb()
    coalesceReceipt(db, 'delivered', groupKey(7), 100, NOW)
    const localId = insertPendingMessage(db, {
      me: ME,
      conversation: dmKey(PEER),
      recipientId: PEER,
      text: 'typed after the receipt',
      clientId: 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0009',
      now: NOW + 1,
    })
    // The send queued after the held receipt goes first.
    const send = next(NOW + 10)!
    expect(send).toMatchObject({ kind: 'send', message_local_id: localId })
    completeOp(db, send.id)
    expect(next(NOW + 10)).toBeUndefined()
    expect(oldestHeldReceipt(db, NOW + 10 - HOLD)).toBe(NOW)
    // Messages arriving while it waits only move it forward: one receipt covers them all.
    coalesceReceipt(db, 'delivered', groupKey(7), 105, NOW + 500)
    coalesceReceipt(db, 'delivered', groupKey(7), 110, NOW + 900)
    expect(next(NOW + 999)).toBeUndefined()
    const due = next(NOW + HOLD)!
    expect(due).toMatchObject({ kind: 'delivered', conversation: groupKey(7) })
    expect(JSON.parse(due.payload)).toMatchObject({ upTo: 110 })
    expect(oldestHeldReceipt(db, NOW)).toBeUndefined()
    completeOp(db, due.id)

    // A group's read receipt and a 1:1 delivered receipt are not held.
    coalesceReceipt(db, 'read', groupKey(7), 110, NOW + 2000)
    expect(next(NOW + 2000)).toMatchObject({ kind: 'read', conversation: groupKey(7) })
    completeOp(db, next(NOW + 2000)!.id)
    coalesceReceipt(db, 'delivered', dmKey(PEER), 12, NOW + 2000)
    expect(next(NOW + 2000)).toMatchObject({ kind: 'delivered', conversation: dmKey(PEER) })
  })
})

describe('pages and settings', () => {
  it('pages go newest first, pending last-written on top, and continue with nextBefore', async () => {
    db = await openTestDb()
    applyEvents(
      db,
      ME,
      feed(
        1,
        Array.from({ length: 5 }, (_, i) => ({ type: 'message' as const, data: message({ id: 10 + i }) })),
      ),
      NOW,
    )
    insertPendingMessage(db, {
      me: ME,
      conversation: dmKey(PEER),
      recipientId: PEER,
      text: 'newest',
      clientId: 'c5d1e0b4-8a57-4d55-9a4e-1b7c3a1a0007',
      now: NOW,
    })
    const first = messagePage(db, ME, dmKey(PEER), {}, 4)
    expect(first.messages.map((m) => m.text)).toEqual(['newest', 'message 14', 'message 13', 'message 12'])
    expect(first.nextAfter).toBeNull()
    const second = messagePage(db, ME, dmKey(PEER), { before: first.nextBefore! }, 4)
    expect(second.messages.map((m) => m.id)).toEqual([11, 10])
    expect(second.nextBefore).toBeNull()
    // Paging back toward the newest, as after opening the conversation at an old message.
    expect(second.nextAfter).not.toBeNull()
    const newer = messagePage(db, ME, dmKey(PEER), { after: second.nextAfter! }, 2)
    expect(newer.messages.map((m) => m.id)).toEqual([13, 12])
    expect(newer.nextBefore).toBe(newer.messages.at(-1)!.position)
    const newest = messagePage(db, ME, dmKey(PEER), { after: newer.nextAfter! }, 2)
    expect(newest.messages.map((m) => m.text)).toEqual(['newest', 'message 14'])
    expect(newest.nextAfter).toBeNull()
  })

  it('settings start at their defaults and keep what was set', async () => {
    db = await openTestDb()
    expect(settingsOf(db).theme).toBe('system')
    saveSettings(db, { theme: 'dark', notifications: false })
    expect(settingsOf(db)).toMatchObject({ theme: 'dark', notifications: false, notificationPreview: true })
    // A value that no longer fits the schema (written by another version) falls back to the default.
    db.prepare(`insert or replace into settings (key, value) values ('theme', '"sepia"')`).run()
    expect(settingsOf(db).theme).toBe('system')
  })
})
