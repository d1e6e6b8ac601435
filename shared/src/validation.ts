import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type Type from 'typebox'

/**
 * One strict ajv for payloads that arrive as JSON (bodies, socket events, bridge calls):
 * no type coercion, unknown keys rejected by the schemas, every problem reported.
 */
export function createAjv(options: { coerceTypes?: boolean | 'array' } = {}): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    coerceTypes: options.coerceTypes ?? false,
    useDefaults: true,
    removeAdditional: false,
    strict: false,
  })
  addFormats(ajv, ['email', 'uuid', 'date-time', 'uri'])
  return ajv
}

const strictAjv = createAjv()
const cache = new WeakMap<object, ValidateFunction>()

export type Validation<T> = { ok: true; value: T } | { ok: false; message: string }

/** Validate `value` against a TypeBox schema; the message names the first offending field. */
export function validate<S extends Type.TSchema>(schema: S, value: unknown): Validation<Type.Static<S>> {
  let check = cache.get(schema)
  if (!check) {
    check = strictAjv.compile(schema)
    cache.set(schema, check)
  }
  if (check(value)) return { ok: true, value: value as Type.Static<S> }
  return { ok: false, message: describeErrors(check.errors ?? []) }
}

/** The first problem in ajv's (or Fastify's) errors, as one sentence that names the field. */
export function describeErrors(
  errors: readonly Pick<ErrorObject, 'keyword' | 'instancePath' | 'params' | 'message'>[],
  root = 'payload',
): string {
  const first = errors[0]
  if (!first) return `${root} is invalid`
  const where = first.instancePath ? `${root}${first.instancePath.replaceAll('/', '.')}` : root
  if (first.keyword === 'additionalProperties' || first.keyword === 'unevaluatedProperties') {
    const extra = first.params as { additionalProperty?: string; unevaluatedProperty?: string }
    return `${where} has an unknown field '${extra.additionalProperty ?? extra.unevaluatedProperty}'`
  }
  // A field refused because of another one (forwardOf with text, say): see `forbidden` in messages.ts.
  if (first.keyword === 'not' && first.instancePath)
    return `${where} cannot be combined with the other fields given`
  if (first.keyword === 'required') {
    return `${where} is missing '${(first.params as { missingProperty: string }).missingProperty}'`
  }
  return `${where} ${first.message ?? 'is invalid'}`
}
