import { dmKey } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyEvents } from '../src/core/db/apply'
import type { LocalDb } from '../src/core/db/local-db'
import { matchExpression, searchMessages, snippet } from '../src/core/db/search'
import { feed, ME, message, openTestDb } from './helpers/store'

let db: LocalDb
const texts: [number, number, string][] = [
  // [id, peer, text]
  [1, 2, 'Parley is a messenger you host yourself'],
  [2, 2, 'lunch at the café?'],
  [3, 3, 'the relay restarted at noon'],
  [4, 3, 'relay relay relay: the relay again'],
  [5, 2, 'meeting about the relay tomorrow'],
  [6, 3, 'meeting about the relay tomorrow'],
  [7, 2, 'this one gets deleted: relay secrets'],
  [8, 2, 'before the edit'],
]

beforeAll(async () => {
  db = await openTestDb()
  applyEvents(
    db,
    ME,
    feed(
      1,
      texts.map(([id, peer, text]) => ({
        type: 'message' as const,
        data: message({ id, senderId: peer, text }),
      })),
    ),
    0,
  )
  applyEvents(
    db,
    ME,
    feed(texts.length + 1, [
      { type: 'message_deleted', data: message({ id: 7, senderId: 2, text: null, deletedAt: 1 }) },
      { type: 'message_updated', data: message({ id: 8, senderId: 2, text: 'after the edit', editedAt: 1 }) },
    ]),
    0,
  )
})
afterAll(async () => {
  await db.close()
})

const ids = (q: string, peerId?: number) =>
  searchMessages(db, ME, {
    q,
    conversation: peerId === undefined ? undefined : dmKey(peerId),
    limit: 20,
    offset: 0,
  }).map((h) => h.message.id)

describe('local search', () => {
  it('matches words by prefix, whatever their case and accents', () => {
    expect(ids('parl')).toEqual([1])
    expect(ids('CAFE')).toEqual([2])
    expect(ids('mes')).toEqual([1])
  })

  it('needs every word to match', () => {
    expect(ids('relay noon')).toEqual([3])
  })

  it('ranks the best match first and the newest first among equals', () => {
    expect(ids('relay')).toEqual([4, 6, 5, 3])
  })

  it('searches within one conversation when asked', () => {
    expect(ids('relay', 2)).toEqual([5])
    expect(ids('meeting', 3)).toEqual([6])
  })

  it('finds edited text by its new words only, and deleted messages not at all', () => {
    expect(ids('after')).toEqual([8])
    expect(ids('before')).toEqual([])
    expect(ids('secrets')).toEqual([])
  })

  it('highlights the matching words in the snippet', () => {
    const [hit] = searchMessages(db, ME, { q: 'noon', limit: 1, offset: 0 })
    expect(hit?.snippet).toEqual([
      { text: 'the relay restarted at ', match: false },
      { text: 'noon', match: true },
    ])
  })

  it('treats FTS5 syntax in the input as plain words', () => {
    for (const q of [
      '"',
      'relay"*',
      'NOT relay',
      'NEAR(relay',
      '*',
      'a OR b',
      "'; drop table messages; --",
      '^relay',
    ]) {
      expect(() => ids(q)).not.toThrow()
    }
    expect(ids('relay"')).toEqual([4, 6, 5, 3])
    expect(ids('!!!')).toEqual([])
    expect(matchExpression('  ')).toBeNull()
    expect(matchExpression('say "hi"')).toBe('"say"* "hi"*')
  })

  it('pages through results with offset', () => {
    const first = searchMessages(db, ME, { q: 'relay', limit: 2, offset: 0 }).map((h) => h.message.id)
    const second = searchMessages(db, ME, { q: 'relay', limit: 2, offset: 2 }).map((h) => h.message.id)
    expect([...first, ...second]).toEqual([4, 6, 5, 3])
  })

  it('builds snippets around the first match, marking every matching word', () => {
    expect(snippet('Café au lait, then more CAFÉS', ['cafe'])).toEqual([
      { text: 'Café', match: true },
      { text: ' au lait, then more ', match: false },
      { text: 'CAFÉS', match: true },
    ])
    const long = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ')
    expect(snippet(long, ['w20'])).toEqual([
      { text: '…w17 w18 w19 ', match: false },
      { text: 'w20', match: true },
      { text: ' w21 w22 w23 w24 w25 w26 w27 w28…', match: false },
    ])
  })

  it('keeps a snippet’s match near its start when long words come before it, and puts it on one line', () => {
    const text =
      'Notwithstanding extraordinarily comprehensive internationalization considerations, the needle was found'
    expect(snippet(text, ['needle'])).toEqual([
      { text: '…considerations, the ', match: false },
      { text: 'needle', match: true },
      { text: ' was found', match: false },
    ])
    // Near the end of a long text, the words before it still do not push it away.
    const long = `${Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ')} needle`
    expect(snippet(long, ['needle'])[0]).toEqual({ text: '…word27 word28 word29 ', match: false })
    expect(snippet('first line\n\n  second   line', ['second'])).toEqual([
      { text: 'first line ', match: false },
      { text: 'second', match: true },
      { text: ' line', match: false },
    ])
  })
})
