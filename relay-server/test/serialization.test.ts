import { routes } from '@parley/shared'
import build from 'fast-json-stringify'
import { describe, expect, it } from 'vitest'
import { forSerialization } from '../src/routes/serialization'

const message = {
  id: 1,
  clientId: '0b0f7a4e-6a1b-4a9e-9f39-3f5d2b1c7a11',
  senderId: 1,
  recipientId: 2,
  groupId: null,
  text: 'hello "there"\n',
  image: null,
  file: null,
  voice: null,
  replyToId: 7,
  forwarded: false,
  createdAt: 1,
  editedAt: null,
  deletedAt: null,
  reactions: [{ emoji: '👍', userIds: [1, 2] }],
}
const page = {
  events: [
    { seq: 1, type: 'message', data: message },
    { seq: 2, type: 'contact_removed', data: { userId: 9 } },
    { seq: 3, type: 'group_removed', data: { groupId: 3, by: 1, reason: 'deleted' } },
    { seq: 4, type: 'message_hidden', data: { messageId: 4 } },
    { seq: 5, type: 'message_deleted', data: { ...message, text: null, deletedAt: 5 } },
  ],
  cursor: 5,
  hasMore: false,
  head: 5,
}

describe('response schemas for serialization', () => {
  const schema = routes.sync.response
  const transformed = forSerialization(schema) as { properties: { events: { items: object } } }

  it('turns a union told apart by a constant field into an if/then/else chain on that field', () => {
    const items = transformed.properties.events.items as Record<string, unknown>
    expect(items.anyOf).toBeUndefined()
    expect(items.if).toEqual({
      type: 'object',
      properties: { type: { const: 'message' } },
      required: ['type'],
    })
    // The original schema is left as it was (routes also validate with it elsewhere).
    expect(schema.properties.events.items.anyOf).toBeDefined()
  })

  it('writes exactly what the union would, for every kind of event in a page', () => {
    const plain = build(schema as never)
    const fast = build(transformed as never)
    expect(fast(page)).toBe(plain(page))
    expect(JSON.parse(fast(page))).toEqual(page)
  })

  it('still writes only the fields the schema names', () => {
    const fast = build(transformed as never)
    const leaky = { ...page, events: [{ seq: 1, type: 'contact_removed', data: { userId: 9, secret: 'x' } }] }
    expect(fast(leaky)).not.toContain('secret')
  })
})
