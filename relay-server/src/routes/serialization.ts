import build from 'fast-json-stringify'

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

/** Keywords that matter to serialization (TypeBox adds its own `~kind` marks beside them). */
const keywordsOf = (schema: Schema) => Object.keys(schema).filter((k) => !k.startsWith('~'))

const isNullSchema = (m: Schema) => m.type === 'null' && keywordsOf(m).length === 1

/**
 * A union of string constants (an enum) is written as the string it is: serialization needs
 * no validator to pick the member, since every member writes the same way.
 */
function stringEnumOf(members: Schema[]): Schema | null {
  const allConst = members.every(
    (m) => m.type === 'string' && typeof m.const === 'string' && keywordsOf(m).length === 2,
  )
  return allConst ? { type: 'string' } : null
}

/**
 * `X | null` where X has one plain type: fast-json-stringify writes it with `nullable: true`
 * without a validator, where the union would make it compile one for X on first use.
 */
function nullableOf(members: Schema[]): Schema | null {
  if (members.length !== 2) return null
  const nullIndex = members.findIndex(isNullSchema)
  if (nullIndex < 0) return null
  const other = members[1 - nullIndex] as Schema
  const plain = typeof other.type === 'string' && other.type !== 'null'
  const combined = ['anyOf', 'oneOf', 'allOf', 'if', '$ref', 'nullable'].some((k) => k in other)
  return plain && !combined ? other : null
}

/**
 * Objects not told apart by a constant (`{userId, peerId, upTo} | {userId, groupId, upTo}`) are
 * written as one object with every member's properties, required where all members require them:
 * each value writes the properties it has, and still nothing the members do not name. Only when
 * properties of the same name have the same schema in every member that has them.
 */
function mergedObjectsOf(members: Schema[]): Schema | null {
  if (!members.every((m) => m.type === 'object' && isObject(m.properties))) return null
  if (members.some((m) => ['anyOf', 'oneOf', 'allOf', 'if', '$ref', 'patternProperties'].some((k) => k in m)))
    return null
  const properties: Schema = {}
  const text = (x: unknown) => JSON.stringify(x, (k, v) => (k.startsWith('~') ? undefined : v))
  for (const m of members) {
    for (const [name, property] of Object.entries(m.properties as Schema)) {
      if (name in properties && text(properties[name]) !== text(property)) return null
      properties[name] = property
    }
  }
  const requiredBy = (m: Schema) => (Array.isArray(m.required) ? (m.required as string[]) : [])
  const required = requiredBy(members[0] as Schema).filter((name) =>
    members.every((m) => requiredBy(m).includes(name)),
  )
  return { type: 'object', properties, required, additionalProperties: false }
}

export function forSerialization(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forSerialization)
  if (!isObject(schema)) return schema
  const out: Schema = {}
  for (const key of Reflect.ownKeys(schema)) out[key] = forSerialization(schema[key])
  const members = out.anyOf
  if (!Array.isArray(members) || members.length < 2 || !members.every(isObject)) return out
  const { anyOf: _members, ...siblings } = out
  const stringEnum = stringEnumOf(members)
  if (stringEnum) return { ...siblings, ...stringEnum }
  const nullable = nullableOf(members)
  if (nullable) return { ...siblings, ...nullable, nullable: true }
  if (!discriminatorOf(members)) {
    const merged = mergedObjectsOf(members)
    if (merged) return { ...siblings, ...merged }
  }
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
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited
      then: member,
      else: chain,
    }
  }
  const { anyOf: _union, ...rest } = out
  return { ...rest, ...chain }
}

type Serialize = (value: unknown) => string

const CONDITIONS = ['if', 'anyOf', 'oneOf', 'allOf'] as const

function hasCondition(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(hasCondition)
  if (!isObject(schema)) return false
  if (CONDITIONS.some((k) => k in schema)) return true
  return Object.values(schema).some(hasCondition)
}

/**
 * A serializer for a response schema that never needs a validator at run time. fast-json-stringify
 * picks the branch of an `if`/`anyOf` with an Ajv validator, and compiling those took seconds of
 * the relay's main thread on the first `GET /sync` page of a busy machine (~0.5 s quiet). Here the
 * schema's discriminated unions are taken apart in JavaScript instead: each branch, and every
 * part of the schema free of conditions, is its own fast-json-stringify serializer, built when
 * the route is registered. The output is the same, fields the schema does not name included out.
 */
export function serializerFor(schema: unknown): Serialize {
  return compose(forSerialization(schema) as Schema)
}

function compose(schema: Schema): Serialize {
  if (!hasCondition(schema)) return build(schema as never) as Serialize
  const chain = ifChainOf(schema)
  if (chain) {
    const branches = new Map<unknown, Serialize>()
    for (const [constant, then] of chain.branches) branches.set(constant, compose(then))
    const otherwise = compose(chain.otherwise)
    const field = chain.field
    return (value) => {
      const key = isObject(value) ? value[field] : undefined
      return (branches.get(key) ?? otherwise)(value)
    }
  }
  if (schema.type === 'object' && isObject(schema.properties) && !CONDITIONS.some((k) => k in schema)) {
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : [])
    const properties = Object.entries(schema.properties).map(([name, property]) => ({
      name,
      prefix: `${JSON.stringify(name)}:`,
      write: compose(property as Schema),
      required: required.has(name),
    }))
    const nullable = schema.nullable === true
    return (value) => {
      if (value === null && nullable) return 'null'
      const object = value as Record<string, unknown>
      let out = ''
      for (const p of properties) {
        const v = object[p.name]
        if (v === undefined) {
          if (p.required) throw new Error(`"${p.name}" is required!`)
          continue
        }
        out += `${out === '' ? '' : ','}${p.prefix}${p.write(v)}`
      }
      return `{${out}}`
    }
  }
  if (schema.type === 'array' && isObject(schema.items) && !CONDITIONS.some((k) => k in schema)) {
    const item = compose(schema.items)
    const nullable = schema.nullable === true
    return (value) => {
      if (value === null && nullable) return 'null'
      return `[${(value as unknown[]).map(item).join(',')}]`
    }
  }
  // A union this cannot take apart: fast-json-stringify with its validators, as before.
  return build(schema as never) as Serialize
}

/** An if/then/else chain on one constant field, as forSerialization writes it. */
function ifChainOf(
  schema: Schema,
): { field: string; branches: [unknown, Schema][]; otherwise: Schema } | null {
  const branches: [unknown, Schema][] = []
  let field: string | null = null
  let node: Schema = schema
  while ('if' in node) {
    const condition = node.if
    const then = node.then
    const properties = isObject(condition) && isObject(condition.properties) ? condition.properties : null
    const names = properties ? Object.keys(properties) : []
    const keys = Object.keys(node).filter((k) => !k.startsWith('~'))
    if (!properties || names.length !== 1 || !isObject(then) || !isObject(node.else) || keys.length !== 3)
      return null
    const name = names[0] as string
    const constant = (properties[name] as Schema | undefined)?.const
    if ((field !== null && field !== name) || constant === undefined) return null
    field = name
    branches.push([constant, then])
    node = node.else
  }
  return field === null ? null : { field, branches, otherwise: node }
}
