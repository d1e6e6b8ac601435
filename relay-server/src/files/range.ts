import type { ByteRange } from '../images/blob-store'

/** What to send for a `Range` header: everything, one range of it, or 416. */
export type RangeAnswer = { kind: 'full' } | ({ kind: 'partial' } & ByteRange) | { kind: 'unsatisfiable' }

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/

/**
 * One `bytes=` range of a `size`-byte file (RFC 9110 §14): `a-b`, `a-` or the suffix `-n`. Several
 * ranges, other units and malformed headers are ignored (the whole file is sent, as the RFC allows);
 * a range that starts past the end is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  const match = header === undefined ? null : SINGLE_RANGE.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'full' }
  const first = match[1] === '' ? null : Number(match[1])
  const last = match[2] === '' ? null : Number(match[2])
  if ((first !== null && !Number.isSafeInteger(first)) || (last !== null && !Number.isSafeInteger(last))) {
    return { kind: 'full' }
  }
  if (first === null) {
    // The last `last` bytes.
    if (last === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - last!), end: size - 1 }
  }
  if (first >= size) return { kind: 'unsatisfiable' }
  if (last !== null && last < first) return { kind: 'full' }
  return { kind: 'partial', start: first, end: Math.min(last ?? size - 1, size - 1) }
}
