import { afterEach, describe, expect, it } from 'vitest'
import { applyEvents } from '../src/core/db/apply'
import type { LocalDb } from '../src/core/db/local-db'
import { cursorOf } from '../src/core/db/tables/sync-state'
import { checkFeedEvent, checkSyncPage } from '../src/core/net/incoming'
import { ME, message, openTestDb } from './helpers/store'

let db: LocalDb | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

describe('what the relay sends', () => {
  it('a field this build does not know is dropped, not refused', () => {
    const checked = checkFeedEvent({
      seq: 1,
      type: 'message',
      data: { ...message({ id: 5 }), image: null, stickerPack: 'from a newer relay' },
    })
    expect(checked.ok).toBe(true)
    if (checked.ok) expect(checked.event.data).not.toHaveProperty('stickerPack')
  })

  it('a known event with a wrong field is refused, naming the field', () => {
    const checked = checkFeedEvent({
      seq: 1,
      type: 'message',
      data: { ...message({ id: 5 }), senderId: 'two' },
    })
    expect(checked).toMatchObject({ ok: false, unknownType: false })
    if (!checked.ok) expect(checked.message).toContain('senderId')
  })

  it('a sync page leaves out event types from a newer relay, and the cursor still moves past them', async () => {
    const page = checkSyncPage({
      events: [
        { seq: 1, type: 'message', data: message({ id: 5 }) },
        { seq: 2, type: 'call_started', data: { from: 2 } },
        { seq: 3, type: 'message', data: message({ id: 6 }) },
        { seq: 4, type: 'call_ended', data: { from: 2 } },
      ],
      cursor: 4,
      hasMore: false,
    })
    expect(page.ok).toBe(true)
    if (!page.ok) return
    expect(page.value.events.map((e) => e.seq)).toEqual([1, 3])
    db = await openTestDb()
    applyEvents(db, ME, page.value.events, 0, { advanceTo: page.value.cursor })
    expect(cursorOf(db)).toBe(4)
  })

  it('a sync page with a malformed event is refused whole (nothing is skipped silently)', () => {
    const page = checkSyncPage({
      events: [{ seq: 1, type: 'message', data: { id: 'x' } }],
      cursor: 1,
      hasMore: false,
    })
    expect(page.ok).toBe(false)
    expect(checkSyncPage({ events: 'none', cursor: 1, hasMore: false }).ok).toBe(false)
  })
})
