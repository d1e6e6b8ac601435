import { describe, expect, it } from 'vitest'
import {
  type Block,
  emojiOnly,
  type Inline,
  parseRichText,
  plainText,
} from '../../src/renderer/lib/rich-text'

/** The inline nodes of a one-paragraph message. */
function inline(text: string, mentionNames?: ReadonlySet<string>): Inline[] {
  const blocks = parseRichText(text, mentionNames ? { mentionNames } : {})
  expect(blocks).toHaveLength(1)
  const [block] = blocks
  if (block?.kind !== 'paragraph') throw new Error('not a paragraph')
  return block.children
}

const t = (text: string): Inline => ({ kind: 'text', text })
const b = (...children: Inline[]): Inline => ({ kind: 'bold', children })
const i = (...children: Inline[]): Inline => ({ kind: 'italic', children })
const s = (...children: Inline[]): Inline => ({ kind: 'strike', children })
const link = (text: string, href = text): Inline => ({ kind: 'link', text, href })

describe('light formatting', () => {
  it('bold with one or two stars, italic with underscores, strike with tildes, code with backticks', () => {
    expect(inline('a *bold* b')).toEqual([t('a '), b(t('bold')), t(' b')])
    expect(inline('**bold**')).toEqual([b(t('bold'))])
    expect(inline('_italic_ and ~gone~ and ~~gone too~~')).toEqual([
      i(t('italic')),
      t(' and '),
      s(t('gone')),
      t(' and '),
      s(t('gone too')),
    ])
    expect(inline('run `npm test` now')).toEqual([t('run '), { kind: 'code', text: 'npm test' }, t(' now')])
  })

  it('nests different markers', () => {
    expect(inline('*bold _and italic_*')).toEqual([b(t('bold '), i(t('and italic')))])
    expect(inline('_~both~_')).toEqual([i(s(t('both')))])
  })

  it('leaves markers inside words alone: a*b*c, snake_case, 2*3*4', () => {
    expect(inline('a*b*c')).toEqual([t('a*b*c')])
    expect(inline('call snake_case_name now')).toEqual([t('call snake_case_name now')])
    expect(inline('2*3*4 = 24')).toEqual([t('2*3*4 = 24')])
    expect(inline('file_name_ is _here_')).toEqual([t('file_name_ is '), i(t('here'))])
  })

  it('an unclosed or unmatched marker is text', () => {
    expect(inline('*not closed')).toEqual([t('*not closed')])
    expect(inline('**a*')).toEqual([t('**a*')])
    expect(inline('* not bold *')).toEqual([t('* not bold *')])
    expect(inline('***three***')).toEqual([t('***three***')])
    expect(inline('~5 minutes')).toEqual([t('~5 minutes')])
    expect(inline('*a _b* c_')).toEqual([b(t('a _b')), t(' c_')])
    expect(inline('`unclosed code')).toEqual([t('`unclosed code')])
    expect(inline('```unclosed fence')).toEqual([t('```unclosed fence')])
  })

  it('markers inside code are text, and code does not reach across lines', () => {
    expect(inline('`*not bold* _nor this_`')).toEqual([{ kind: 'code', text: '*not bold* _nor this_' }])
    expect(inline('`a\nb` *c*')).toEqual([t('`a\nb` '), b(t('c'))])
    expect(inline('`` a`b ``')).toEqual([{ kind: 'code', text: 'a`b' }])
  })

  it('fenced code blocks keep their text as written, between paragraphs', () => {
    const blocks = parseRichText('Look:\n```\nconst a = *b* + _c_\n  indented\n```\nneat')
    expect(blocks).toEqual<Block[]>([
      { kind: 'paragraph', children: [t('Look:')] },
      { kind: 'code-block', text: 'const a = *b* + _c_\n  indented' },
      { kind: 'paragraph', children: [t('neat')] },
    ])
    expect(parseRichText('```one line```')).toEqual([{ kind: 'code-block', text: 'one line' }])
    expect(parseRichText('``````')).toEqual([{ kind: 'paragraph', children: [t('``````')] }])
  })

  it('HTML is text: nothing in a message becomes markup', () => {
    expect(inline('<b>x</b> <img src=x onerror=alert(1)>')).toEqual([
      t('<b>x</b> <img src=x onerror=alert(1)>'),
    ])
  })

  it('plainText gives back the words without the markers', () => {
    expect(plainText(parseRichText('*a* _b_ `c`\n```\nd\n```'))).toBe('a b c\nd')
  })
})

describe('links', () => {
  it('http(s) and www. addresses, the latter opened over https', () => {
    expect(inline('see https://example.org/a?b=1#c ok')).toEqual([
      t('see '),
      link('https://example.org/a?b=1#c'),
      t(' ok'),
    ])
    expect(inline('www.example.org')).toEqual([link('www.example.org', 'https://www.example.org')])
    expect(inline('HTTP://EXAMPLE.ORG')).toEqual([link('HTTP://EXAMPLE.ORG')])
  })

  it('keeps underscores, stars and tildes inside an address, and takes punctuation after it as text', () => {
    expect(inline('https://example.org/a_b_c/~user/x*y.')).toEqual([
      link('https://example.org/a_b_c/~user/x*y'),
      t('.'),
    ])
    expect(inline('_https://example.org/snake_case_')).toEqual([i(link('https://example.org/snake_case'))])
    expect(inline('*www.example.org*')).toEqual([b(link('www.example.org', 'https://www.example.org'))])
  })

  it('parentheses: a closing one the address did not open is not part of it', () => {
    expect(inline('(see https://example.org/a)')).toEqual([t('(see '), link('https://example.org/a'), t(')')])
    expect(inline('https://en.wikipedia.org/wiki/Foo_(bar)')).toEqual([
      link('https://en.wikipedia.org/wiki/Foo_(bar)'),
    ])
  })

  it('what only looks like an address is text', () => {
    for (const text of [
      'www.',
      'www.x',
      'awww.example.org',
      'https://',
      'https://user:secret@example.org',
      'javascript://example.org',
      'xhttps://example.org',
      `https://example.org/${'a'.repeat(2100)}`,
    ]) {
      expect(
        inline(text).some((node) => node.kind === 'link'),
        text,
      ).toBe(false)
    }
  })

  it('message links open in the app; a malformed one is text', () => {
    expect(inline('see parley://message/130.')).toEqual([
      t('see '),
      { kind: 'message-link', text: 'parley://message/130', messageId: 130 },
      t('.'),
    ])
    expect(inline('PARLEY://MESSAGE/7')).toEqual([
      { kind: 'message-link', text: 'PARLEY://MESSAGE/7', messageId: 7 },
    ])
    for (const text of [
      'parley://message/0',
      'parley://message/01',
      'parley://message/12ab',
      'xparley://message/5',
    ])
      expect(inline(text)).toEqual([t(text)])
  })

  it('group invite links, and @mentions of members', () => {
    const code = 'Q7mK2xR9pL4vN8sT3wY6zA'
    expect(inline(`join parley://join/${code}!`)).toEqual([
      t('join '),
      { kind: 'invite', text: `parley://join/${code}`, code },
      t('!'),
    ])
    expect(inline('hi @ada and *@bob*', new Set(['ada', 'bob']))).toEqual([
      t('hi '),
      { kind: 'mention', text: '@ada' },
      t(' and '),
      b({ kind: 'mention', text: '@bob' }),
    ])
  })
})

describe('nasty inputs', () => {
  const cases: [string, string][] = [
    ['stars', '*'.repeat(4000)],
    ['star words', 'a* *'.repeat(1000)],
    ['openers only', '*a _b ~c '.repeat(444)],
    ['closers only', 'a* b_ c~ '.repeat(444)],
    ['nested openers', `${'*a _b ~c '.repeat(300)}${'d~ e_ f* '.repeat(300)}`],
    ['backticks', '`a'.repeat(2000)],
    ['fences', '```a'.repeat(1000)],
    ['uneven fences', Array.from({ length: 200 }, (_, n) => `${'`'.repeat(3 + (n % 7))}x`).join('')],
    ['addresses', 'https://a.b/'.repeat(333)],
    ['parentheses', `https://example.org/${')'.repeat(3980)}`],
    ['bracketed addresses', '(https://'.repeat(444)],
    ['www', 'www.'.repeat(1000)],
  ]
  it.each(cases)('%s (4,000 characters) parse quickly and lose no character', (_name, text) => {
    const started = performance.now()
    const blocks = parseRichText(text)
    const took = performance.now() - started
    // Not a speed target (that is bench territory): a guard against super-linear blow-up, which at
    // 4,000 characters takes seconds; a loaded CI machine takes 60 ms or more for a linear parse.
    expect(took).toBeLessThan(1000)
    // Nothing written is dropped: the text without markers is the text, unless markers were used.
    const plain = plainText(blocks)
    expect(plain.length).toBeLessThanOrEqual(text.length)
    expect(plain.length).toBeGreaterThan(0)
  })

  it('deep nesting stops at a few levels: the rest is shown as written', () => {
    const deep = `${'*a _b ~c **d '.repeat(50)}${' d** c~ b_ a*'.repeat(50)}`
    const depth = (nodes: Inline[]): number =>
      Math.max(0, ...nodes.map((node) => ('children' in node ? 1 + depth(node.children) : 0)))
    const blocks = parseRichText(deep)
    const block = blocks[0]
    if (block?.kind !== 'paragraph') throw new Error('not a paragraph')
    expect(depth(block.children)).toBeLessThanOrEqual(4)
    expect(plainText(blocks)).toContain('*a _b')
  })
})

describe('big emoji', () => {
  it('one to three emoji alone, spaces allowed', () => {
    expect(emojiOnly('👍')).toBe(1)
    expect(emojiOnly(' 😂😂 ')).toBe(2)
    expect(emojiOnly('❤️ 👩‍👩‍👧 🇫🇷')).toBe(3)
  })
  it('not with text, digits, four emoji or none', () => {
    expect(emojiOnly('ok 👍')).toBe(0)
    expect(emojiOnly('123')).toBe(0)
    expect(emojiOnly('👍👍👍👍')).toBe(0)
    expect(emojiOnly('')).toBe(0)
    expect(emojiOnly('*')).toBe(0)
  })
})
