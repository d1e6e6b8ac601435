/** Numbers for people: percentiles, rates, sizes. */

export function sorted(...parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    all.set(part, at)
    at += part.length
  }
  return all.sort()
}

/** The p-th percentile (nearest rank) of ascending values; NaN when there are none. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * values.length)
  return values[Math.min(values.length - 1, Math.max(0, rank - 1))]!
}

export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a'
}

export function ms(n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  if (n < 10) return `${n.toFixed(2)} ms`
  if (n < 100) return `${n.toFixed(1)} ms`
  return `${int(n)} ms`
}

export function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(2)} s`
}

export function mb(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a MB'
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

export function perSecond(count: number, msValue: number): number {
  return msValue > 0 ? (count * 1000) / msValue : Number.NaN
}

export function counts(map: Record<string, number>): string {
  const entries = Object.entries(map)
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ×${int(v)}`).join(', ')
}
