import type { GroupChange, GroupEvent, MessageView } from '@parley/shared'
import { describe, expect, it } from 'vitest'
import { applyGroupEvents } from '../src/core/db/apply'
import { saveGroup } from '../src/core/db/tables/groups'
import { messagePage } from '../src/core/db/views/messages'
import { ME, message, openTestDb } from './helpers/store'

// A group's timeline interleaves messages with rows of its changes ("Ada added Grace"); a change's
// row sorts at the position of the message it followed, so several rows can share one position.
// Paging through the timeline, a page boundary must never fall between two rows of one position.

const GROUP = 7
const KEY = `group:${GROUP}` as const
const T0 = 1_700_000_000_000

function change(seq: number, c: GroupChange): GroupEvent {
  return {
    groupId: GROUP,
    seq,
    type: 'group_updated',
    createdAt: T0 + seq,
    data: { groupId: GROUP, seq, by: ME, change: c },
  }
}
function said(seq: number, id: number): GroupEvent {
  return {
    groupId: GROUP,
    seq,
    type: 'message',
    createdAt: T0 + seq,
    data: message({ id, groupId: GROUP, recipientId: null }),
  }
}
const member = (userId: number) => ({ userId, role: 'member' as const, joinedAt: T0 })

/** A group whose log has three changes after its first message and two after its second. */
async function groupWithTies() {
  const db = await openTestDb()
  saveGroup(db, ME, {
    id: GROUP,
    title: 'Ties',
    avatar: null,
    createdAt: T0,
    createdBy: ME,
    memberCount: 2,
    role: 'owner',
    headSeq: 0,
    members: [{ userId: ME, role: 'owner', joinedAt: T0 }, member(2)],
  })
  applyGroupEvents(
    db,
    ME,
    GROUP,
    [
      change(1, { kind: 'members_added', members: [member(2)], via: 'created' }),
      said(2, 10),
      change(3, { kind: 'members_added', members: [member(3)], via: 'added' }),
      change(4, { kind: 'title', title: 'Ties again' }),
      change(5, { kind: 'role', userId: 3, role: 'admin' }),
      said(6, 11),
      change(7, { kind: 'member_removed', userId: 3 }),
      change(8, { kind: 'title', title: 'Ties at last' }),
      said(9, 12),
    ],
    T0,
  )
  return db
}

const label = (m: MessageView): string =>
  m.kind === 'event' ? m.event!.kind + (m.event!.title ?? '') : (m.text ?? '')

describe('paging a group timeline where rows share a position', () => {
  it('every row comes exactly once, in order, whatever the page size, going back and going forward', async () => {
    const db = await groupWithTies()
    const whole = messagePage(db, ME, KEY, {}, 100).messages.reverse().map(label)
    expect(whole).toEqual([
      'members_added',
      'message 10',
      'members_added',
      'titleTies again',
      'role',
      'message 11',
      'member_removed',
      'titleTies at last',
      'message 12',
    ])
    for (let limit = 1; limit <= whole.length; limit++) {
      const back: string[] = []
      let page = messagePage(db, ME, KEY, {}, limit)
      back.unshift(...page.messages.map(label).reverse())
      while (page.nextBefore !== null) {
        page = messagePage(db, ME, KEY, { before: page.nextBefore }, limit)
        back.unshift(...page.messages.map(label).reverse())
      }
      expect(back, `back, ${limit} a page`).toEqual(whole)

      const forward: string[] = []
      page = messagePage(db, ME, KEY, { after: 0 }, limit)
      forward.push(...page.messages.map(label).reverse())
      while (page.nextAfter !== null) {
        page = messagePage(db, ME, KEY, { after: page.nextAfter }, limit)
        forward.push(...page.messages.map(label).reverse())
      }
      expect(forward, `forward, ${limit} a page`).toEqual(whole)
    }
  })
})
