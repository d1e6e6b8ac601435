import Type from 'typebox'
import { errorCodes } from './errors'

/** Database ids: positive integers that survive JSON and both SQL dialects (bigint columns). */
export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })
/** Milliseconds since the Unix epoch. */
export const Timestamp = Type.Integer({ minimum: 0 })
/** A feed sequence number; 0 means "before the first event". */
export const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
export const Uuid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
})

/**
 * Text that every database stores as sent: no NUL (PostgreSQL refuses it) and no unpaired UTF-16
 * surrogate (each dialect would mangle it differently).
 */
export const STORABLE_TEXT_PATTERN = '^[^\\u0000\\uD800-\\uDFFF]*$'
/** Storable text with at least one visible character (checked by a lookahead, in linear time). */
export const VISIBLE_TEXT_PATTERN = '^(?=[\\s\\S]*\\S)[^\\u0000\\uD800-\\uDFFF]*$'

/** Images are content-addressed: the id is the SHA-256 (hex) of the stored bytes. */
export const ImageId = Type.String({ pattern: '^[0-9a-f]{64}$' })

export const ImageInfo = Type.Object(
  {
    id: ImageId,
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    bytes: Type.Integer({ minimum: 1 }),
    mime: Type.Union([
      Type.Literal('image/png'),
      Type.Literal('image/jpeg'),
      Type.Literal('image/gif'),
      Type.Literal('image/webp'),
    ]),
  },
  { additionalProperties: false },
)
export type ImageInfo = Type.Static<typeof ImageInfo>

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(Object.keys(errorCodes).map((code) => Type.Literal(code))),
      message: Type.String(),
    }),
  },
  { additionalProperties: false },
)

export const IdParams = Type.Object({ id: Id }, { additionalProperties: false })
export type IdParams = Type.Static<typeof IdParams>

/** Object schemas reject unknown keys: no mass assignment, and typos fail loudly. */
export function Strict<P extends Type.TProperties>(properties: P) {
  return Type.Object(properties, { additionalProperties: false })
}
