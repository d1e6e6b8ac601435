import {
  ConversationKeySchema,
  dmKey,
  dmPeer,
  groupKey,
  isConversationKey,
  parseConversationKey,
  validate,
} from '@parley/shared'
import { describe, expect, it } from 'vitest'

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
})
