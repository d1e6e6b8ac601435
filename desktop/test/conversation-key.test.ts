import {
  ConversationKeySchema,
  dmKey,
  dmPeer,
  groupKey,
  isConversationKey,
  parseConversationKey,
  validate,
} from '@parley/shared'
import SQLite from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { conversationId, conversationIdSql, conversationKeyOf } from '../src/core/db/conversation-id'

describe('conversation keys', () => {
  it('name a 1:1 conversation by the other person and a group by its id, and read back', () => {
    expect(dmKey(42)).toBe('dm:42')
    expect(groupKey(7)).toBe('group:7')
    expect(parseConversationKey('dm:42')).toEqual({ kind: 'dm', id: 42 })
    expect(parseConversationKey(groupKey(7))).toEqual({ kind: 'group', id: 7 })
    expect(dmPeer('dm:42')).toBe(42)
    expect(dmPeer('group:7')).toBeNull()
  })

  it.each([
    'dm:0',
    'dm:-1',
    'dm:01',
    'dm:1.5',
    'dm:',
    'group:',
    'dm:99999999999999999',
    'channel:3',
    'DM:3',
    ' dm:3',
    'dm:3 ',
    '3',
    3,
    null,
  ])('refuse %j', (value) => {
    expect(isConversationKey(value)).toBe(false)
    expect(parseConversationKey(value)).toBeNull()
    expect(validate(ConversationKeySchema, value).ok).toBe(false)
  })

  it('the schema takes exactly what the helpers take', () => {
    for (const key of ['dm:1', 'group:1', `dm:${Number.MAX_SAFE_INTEGER}`]) {
      expect(isConversationKey(key)).toBe(true)
      expect(validate(ConversationKeySchema, key).ok).toBe(true)
    }
  })

  it('the messages table names a conversation by an integer that maps both ways, in JavaScript and in SQL alike', () => {
    const sqlite = new SQLite(':memory:')
    const inSql = sqlite.prepare(`select ${conversationIdSql('?')}`).pluck()
    for (const key of ['dm:5', 'group:5', 'dm:123456', 'group:1'] as const) {
      const id = conversationId(key)
      expect(conversationKeyOf(id)).toBe(key)
      expect(inSql.get(key, key, key)).toBe(id)
    }
    expect(conversationId('dm:5')).toBe(5)
    expect(conversationId('group:5')).toBe(-5)
    sqlite.close()
  })
})
