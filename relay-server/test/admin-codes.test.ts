import { describe, expect, it } from 'vitest'
import { generatePassword, parseDuration, randomAlphanumeric } from '../src/admin/operations'

describe('codes and passwords the admin command prints', () => {
  it('are letters and digits only, so none can be taken for a command-line option', () => {
    const codes = Array.from({ length: 5000 }, () => randomAlphanumeric(22))
    for (const code of codes) expect(code).toMatch(/^[A-Za-z0-9]{22}$/)
    expect(new Set(codes).size).toBe(codes.length)
    expect(generatePassword()).toMatch(/^[A-Za-z0-9]{24}$/)
  })

  it('use every character of the alphabet about equally often', () => {
    const counts = new Map<string, number>()
    for (const ch of randomAlphanumeric(62 * 2000)) counts.set(ch, (counts.get(ch) ?? 0) + 1)
    expect(counts.size).toBe(62)
    for (const n of counts.values()) expect(n).toBeGreaterThan(1700)
    for (const n of counts.values()) expect(n).toBeLessThan(2300)
  })

  it('reads durations an operator writes', () => {
    expect(parseDuration('7d')).toBe(7 * 24 * 3600 * 1000)
    expect(() => parseDuration('soon')).toThrow(/not a duration/)
  })
})
