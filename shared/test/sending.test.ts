import { describe, expect, it } from 'vitest'
import { canRetry, splitMessage } from '../src/bridge/sending'

const squash = (text: string) => text.replace(/\s+/g, ' ').trim()

describe('splitting a text too long for one message', () => {
  it('keeps a text that fits whole (trimmed)', () => {
    expect(splitMessage('  hello  ', 10)).toEqual(['hello'])
    expect(splitMessage('   ', 10)).toEqual([])
  })

  it('cuts between paragraphs before it cuts a paragraph', () => {
    const a = 'First paragraph. It has two sentences.'
    const b = 'Second one, short.'
    const c = 'Third paragraph here.'
    expect(splitMessage(`${a}\n\n${b}\n\n${c}`, 60)).toEqual([`${a}\n\n${b}`, c])
  })

  it('cuts after a sentence when a paragraph is longer than a message', () => {
    const text = 'One two three. Four five six! Seven eight nine? Ten eleven twelve.'
    const parts = splitMessage(text, 32)
    expect(parts).toEqual(['One two three. Four five six!', 'Seven eight nine?', 'Ten eleven twelve.'])
  })

  it('cuts between words, and inside a word only when there is no space, never inside an emoji', () => {
    expect(splitMessage('aaaa bbbb cccc', 9)).toEqual(['aaaa bbbb', 'cccc'])
    expect(splitMessage('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij'])
    const emoji = '😀'.repeat(5) // ten UTF-16 units
    const parts = splitMessage(emoji, 3)
    expect(parts.join('')).toBe(emoji)
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(3)
    for (const part of parts) expect(part).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/)
  })

  it('a 100 KB paste becomes messages within the limit that say, in order, all it said', () => {
    const sentence = (i: number) => `Sentence number ${i} of the long paste goes on for a little while.`
    const paragraphs = Array.from({ length: 200 }, (_, p) =>
      Array.from({ length: 8 }, (_, s) => sentence(p * 8 + s)).join(' '),
    )
    const text = paragraphs.join('\n\n')
    expect(text.length).toBeGreaterThan(100_000)
    const parts = splitMessage(text, 4000)
    expect(parts.length).toBeGreaterThan(25)
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(4000)
    expect(squash(parts.join(' '))).toBe(squash(text))
    // Every cut falls on a paragraph's end here: each part ends a sentence.
    for (const part of parts) expect(part.endsWith('.')).toBe(true)
  })
})

describe('which failures a retry can mend', () => {
  it('offers a retry for the network and a contact not accepted yet, not for a refused picture', () => {
    expect(canRetry('network')).toBe(true)
    expect(canRetry('contact_required')).toBe(true)
    expect(canRetry('rate_limited')).toBe(true)
    expect(canRetry('unsupported_image')).toBe(false)
    expect(canRetry('invalid_image')).toBe(false)
    expect(canRetry('image_too_large')).toBe(false)
  })
})
