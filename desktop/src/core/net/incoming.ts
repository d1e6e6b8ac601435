import { describeErrors, FeedEvent, type SyncResponse } from '@parley/shared'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import Type from 'typebox'

/**
 * Checks what the relay sends against the shared schemas, as a tolerant reader: fields this build
 * does not know (a newer relay's additions, such as image attachments) are dropped rather than
 * refused, so an older desktop keeps working against a newer relay. Everything it does know must
 * have the right type.
 */
const tolerantAjv = new Ajv({
  allErrors: false,
  coerceTypes: false,
  removeAdditional: true,
  strict: false,
  discriminator: true,
})
addFormats(tolerantAjv, ['email', 'uuid', 'date-time', 'uri'])
const cache = new WeakMap<object, ValidateFunction>()

/**
 * A union of objects told apart by one constant field (`kind`, `type`) becomes a `oneOf` with a
 * discriminator. Without it, removing unknown fields while trying each branch of an `anyOf` strips
 * the fields of the right branch before it is tried (a group's `role` change lost its `role` to
 * the `title` branch, and the group's log stalled on it).
 */
function discriminated(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(discriminated)
  if (typeof schema !== 'object' || schema === null) return schema
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) out[key] = discriminated(value)
  const branches = out.anyOf as Record<string, unknown>[] | undefined
  if (!Array.isArray(branches) || branches.length < 2) return out
  for (const field of ['type', 'kind']) {
    const tagged = branches.every((b) => {
      const props = b?.properties as Record<string, { const?: unknown }> | undefined
      return (
        typeof props?.[field]?.const === 'string' && (b.required as string[] | undefined)?.includes(field)
      )
    })
    if (!tagged) continue
    const { anyOf: _, ...rest } = out
    return {
      ...rest,
      type: 'object',
      required: [field],
      discriminator: { propertyName: field },
      oneOf: branches,
    }
  }
  return out
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string }

export function checkIncoming<S extends Type.TSchema>(
  schema: S,
  value: unknown,
  what: string,
): Checked<Type.Static<S>> {
  let check = cache.get(schema)
  if (!check) {
    check = tolerantAjv.compile(discriminated(schema) as object)
    cache.set(schema, check)
  }
  if (check(value)) return { ok: true, value: value as Type.Static<S> }
  return { ok: false, message: describeErrors(check.errors ?? [], what) }
}

type Branch = Type.TSchema & { properties: { type: { const: string } } }

/** Each feed event type's own schema: checking by type is several times faster than the union. */
const feedSchemas = new Map<string, Type.TSchema>(
  (FeedEvent as unknown as { anyOf: Branch[] }).anyOf.map((branch) => [branch.properties.type.const, branch]),
)

export type CheckedEvent =
  | { ok: true; event: FeedEvent }
  | { ok: false; unknownType: boolean; message: string }

/**
 * Checks one feed event. An event of a type this build does not know (a newer relay's) is
 * reported as such, so the caller can skip it instead of stalling on it.
 */
export function checkFeedEvent(value: unknown, what = 'event'): CheckedEvent {
  const type = (value as { type?: unknown } | null)?.type
  const schema = typeof type === 'string' ? feedSchemas.get(type) : undefined
  if (!schema)
    return { ok: false, unknownType: typeof type === 'string', message: `${what} has an unknown type` }
  const checked = checkIncoming(schema, value, what)
  return checked.ok
    ? { ok: true, event: checked.value as FeedEvent }
    : { ok: false, unknownType: false, message: checked.message }
}

const SyncEnvelope = Type.Object({
  events: Type.Array(Type.Unknown()),
  cursor: Type.Integer({ minimum: 0 }),
  hasMore: Type.Boolean(),
  /** Missing from relays older than this field. */
  head: Type.Optional(Type.Integer({ minimum: 0 })),
})

/**
 * Checks a sync page: the envelope, then each event by its type. Events of unknown types are
 * left out (the page's cursor still moves past them); a malformed known event fails the page.
 */
export function checkSyncPage(value: unknown): Checked<SyncResponse> {
  const envelope = checkIncoming(SyncEnvelope, value, 'sync')
  if (!envelope.ok) return envelope
  const events: FeedEvent[] = []
  for (const [index, raw] of envelope.value.events.entries()) {
    const checked = checkFeedEvent(raw, `sync.events.${index}`)
    if (checked.ok) events.push(checked.event)
    else if (!checked.unknownType) return { ok: false, message: checked.message }
  }
  const { cursor, hasMore, head } = envelope.value
  return { ok: true, value: { events, cursor, hasMore, head: head ?? cursor } }
}
