/**
 * Response schemas as fast-json-stringify serializes them fastest. A union (`anyOf`) makes it try
 * each member in turn with an Ajv validator of the whole member, compiled on the first response
 * that reaches it: the first page of a sync with a message in it cost ~300 ms of compiling, and
 * every event after that a full validation just to pick its shape. Our unions of objects are told
 * apart by a constant field (`type` or `kind`), so here each such union becomes an if/then/else
 * chain on that field alone: a tiny validator per member, and the member's full schema used only
 * to write the output. Same output, field filtering included; nothing else changes.
 */

type Schema = Record<string | symbol, unknown>

const isObject = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** The field whose constant tells every member apart, if there is one. */
function discriminatorOf(members: Schema[]): string | null {
  for (const field of ['type', 'kind']) {
    const constants = members.map((m) => {
      const properties = m.properties
      const property = isObject(properties) ? properties[field] : undefined
      const required = Array.isArray(m.required) && m.required.includes(field)
      return required && isObject(property) && typeof property.const === 'string' ? property.const : null
    })
    if (constants.every((c) => c !== null) && new Set(constants).size === members.length) return field
  }
  return null
}

export function forSerialization(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forSerialization)
  if (!isObject(schema)) return schema
  const out: Schema = {}
  for (const key of Reflect.ownKeys(schema)) out[key] = forSerialization(schema[key])
  const members = out.anyOf
  if (!Array.isArray(members) || members.length < 2 || !members.every(isObject)) return out
  const field = discriminatorOf(members)
  if (!field) return out
  // The last member is the final `else`: whatever reaches it is written with its schema, as the
  // last anyOf member would have been tried last.
  let chain: Schema = members[members.length - 1] as Schema
  for (let i = members.length - 2; i >= 0; i--) {
    const member = members[i] as Schema
    const constant = ((member.properties as Schema)[field] as Schema).const
    chain = {
      if: { type: 'object', properties: { [field]: { const: constant } }, required: [field] },
      then: member,
      else: chain,
    }
  }
  const { anyOf: _union, ...rest } = out
  return { ...rest, ...chain }
}
