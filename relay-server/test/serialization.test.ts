import { routes } from '@parley/shared'
import build from 'fast-json-stringify'
import { describe, expect, it } from 'vitest'
import { forSerialization, serializerFor } from '../src/routes/serialization'

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
    {
      seq: 6,
      type: 'message',
      data: {
        ...message,
        id: 2,
        text: null,
        image: { id: 'a'.repeat(64), width: 4, height: 3, bytes: 99, mime: 'image/png' },
      },
    },
    { seq: 7, type: 'read', data: { userId: 2, peerId: 1, upTo: 2 } },
    { seq: 8, type: 'delivered', data: { userId: 2, groupId: 4, upTo: 9 } },
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
    // The same JSON; a merged object union may list its properties in another order.
    expect(JSON.parse(fast(page))).toEqual(JSON.parse(plain(page)))
    expect(JSON.parse(fast(page))).toEqual(page)
  })

  it('still writes only the fields the schema names', () => {
    const fast = build(transformed as never)
    const leaky = { ...page, events: [{ seq: 1, type: 'contact_removed', data: { userId: 9, secret: 'x' } }] }
    expect(fast(leaky)).not.toContain('secret')
  })

  it('turns nullable fields and string enums into plain types, and merges unions of objects', () => {
    const message = (
      transformed.properties.events.items as {
        then: { properties: { data: { properties: Record<string, Record<string, unknown>> } } }
      }
    ).then.properties.data.properties
    expect(message.text).toMatchObject({ type: 'string', nullable: true })
    expect(message.image?.anyOf).toBeUndefined()
    expect(message.image).toMatchObject({ type: 'object', nullable: true })
    const text = JSON.stringify(transformed)
    expect(text).not.toContain('"anyOf"')
  })
})

describe('the composed serializer (no validator at run time)', () => {
  const serialize = serializerFor(routes.sync.response)

  it('writes every kind of event as fast-json-stringify with the full schema does', () => {
    const plain = build(routes.sync.response as never)
    expect(JSON.parse(serialize(page))).toEqual(JSON.parse(plain(page)))
    expect(JSON.parse(serialize(page))).toEqual(page)
  })

  it('leaves out fields the schema does not name, at every depth', () => {
    const leaky = {
      ...page,
      extra: 1,
      events: [
        { seq: 1, type: 'message', data: { ...message, secret: 'x' }, more: 2 },
        { seq: 2, type: 'read', data: { userId: 1, peerId: 2, upTo: 3, hidden: 'y' } },
      ],
    }
    const out = serialize(leaky)
    for (const word of ['secret', 'hidden', 'extra', 'more']) expect(out).not.toContain(word)
    expect(JSON.parse(out).events[0].data.text).toBe(message.text)
  })

  it('refuses a page missing a required field rather than writing half of it', () => {
    const { cursor: _cursor, ...broken } = page
    expect(() => serialize(broken)).toThrow(/cursor/)
  })
})
