import { messageIdOf } from '@parley/shared/conversation'
import { splitMentions } from '@parley/shared/groups'

/**
 * A message's light formatting, parsed into a tree the page renders as elements (never as HTML):
 * `*bold*` or `**bold**`, `_italic_`, `~strike~` (or `~~strike~~`), `` `code` ``, fenced code blocks
 * (```` ``` ````), web addresses (`http(s)://…`, `www.…`), group invite links, message links and
 * @mentions.
 *
 * The rules are a messenger's, not Markdown's: a marker opens only at the start of a word (after a
 * space, punctuation or the start) and closes only at the end of one, so `a*b*c`, `snake_case` and
 * `2*3*4` stay as written; markers inside code and addresses are text; a marker that never closes is
 * text. It runs in time linear in the text (a 4,000-character message of markers parses in well
 * under a millisecond or so), so it can run on every render.
 */

export type Emphasis = 'bold' | 'italic' | 'strike'

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'mention'; text: string }
  | { kind: 'code'; text: string }
  /** `href` is what opens (a `www.` address gets `https://`); `text` is what was written. */
  | { kind: 'link'; text: string; href: string }
  | { kind: 'invite'; text: string; code: string }
  /** `parley://message/<id>`: opens that message in the app (never a browser). */
  | { kind: 'message-link'; text: string; messageId: number }
  | { kind: 'bold'; children: Inline[] }
  | { kind: 'italic'; children: Inline[] }
  | { kind: 'strike'; children: Inline[] }

export type Block = { kind: 'paragraph'; children: Inline[] } | { kind: 'code-block'; text: string }

export interface RichTextOptions {
  /** Usernames (lower case) whose `@name` is marked as a mention. */
  mentionNames?: ReadonlySet<string>
}

/** Deeper emphasis than this is shown as written (no one means ten nested bolds; rendering would). */
const MAX_DEPTH = 4
/** Longer than this, an address is not a link (the shell refuses to open it anyway). */
const MAX_URL = 2048

const EMPHASIS: Record<string, Emphasis> = {
  '*': 'bold',
  '**': 'bold',
  _: 'italic',
  '~': 'strike',
  '~~': 'strike',
}
const CANDIDATE = /`+|\*+|_+|~+|https?:\/\/|www\.|parley:\/\/(?:join|message)\//gi
const WORD = /[\p{L}\p{N}]/u
const SPACE = /\s/u
/** Before an address: these would make it part of a word or of another address. */
const NOT_BEFORE_LINK = /[\p{L}\p{N}@./:-]/u
const URL_BODY = /(?:https?:\/\/|www\.)[^\s<>"'`]+/iy
const INVITE = /parley:\/\/join\/([A-Za-z0-9]{16,64})(?![A-Za-z0-9])/iy
const MESSAGE_LINK = /parley:\/\/message\/([1-9][0-9]{0,15})(?![A-Za-z0-9])/iy
const TRAILING = new Set([...'.,;:!?*_~\'"'])

export function parseRichText(text: string, options: RichTextOptions = {}): Block[] {
  const mentions = options.mentionNames ?? new Set<string>()
  const blocks: Block[] = []
  for (const part of splitFences(text)) {
    if (part.code) blocks.push({ kind: 'code-block', text: part.text })
    else if (part.text)
      blocks.push({ kind: 'paragraph', children: withMentions(parseInline(part.text), mentions) })
  }
  return blocks
}

interface Run {
  at: number
  length: number
}

/** The next run of `char` at or after `from` of at least `min` long (and at most `max`), before `limit`. */
function nextRun(
  text: string,
  char: string,
  from: number,
  min: number,
  max: number,
  limit: number,
): Run | null {
  let at = text.indexOf(char, from)
  while (at >= 0 && at < limit) {
    let end = at
    while (text[end] === char) end++
    if (end - at >= min && end - at <= max) return { at, length: end - at }
    at = text.indexOf(char, end)
  }
  return null
}

/** Fenced code blocks (```` ``` ```` to the next fence of the same length) and the text between them. */
function splitFences(text: string): { code: boolean; text: string }[] {
  const out: { code: boolean; text: string }[] = []
  let plainFrom = 0
  let from = 0
  for (;;) {
    const open = nextRun(text, '`', from, 3, Number.POSITIVE_INFINITY, text.length)
    if (!open) break
    const contentFrom = open.at + open.length
    const close = nextRun(text, '`', contentFrom, open.length, open.length, text.length)
    if (!close) break
    const content = text
      .slice(contentFrom, close.at)
      .replace(/^\r?\n/, '')
      .replace(/\r?\n$/, '')
    from = close.at + close.length
    if (content.trim() === '') continue
    out.push({ code: false, text: text.slice(plainFrom, open.at) })
    out.push({ code: true, text: content })
    plainFrom = from
  }
  out.push({ code: false, text: text.slice(plainFrom) })
  // A block stands on its own lines: the line breaks around it are the block's, not the text's.
  for (let i = 0; i < out.length; i++) {
    const part = out[i]!
    if (part.code) continue
    if (out[i - 1]?.code) part.text = part.text.replace(/^\r?\n/, '')
    if (out[i + 1]?.code) part.text = part.text.replace(/\r?\n$/, '')
  }
  return out
}

interface Marker {
  kind: 'marker'
  raw: string
  canOpen: boolean
  canClose: boolean
}
type Item = Inline | Marker

/** Code spans, links and emphasis markers, in order, with the text between them. */
function tokens(text: string): Item[] {
  const items: Item[] = []
  let textFrom = 0
  const re = new RegExp(CANDIDATE)
  for (let match = re.exec(text); match; match = re.exec(text)) {
    const at = match.index
    const found = match[0][0] === '`' ? codeSpan(text, at, match[0].length) : atom(text, at, match[0])
    if (!found) {
      // Not what it looked like: text, and the search goes on after it.
      re.lastIndex = at + (/^[`*_~]/.test(match[0]) ? match[0].length : 1)
      continue
    }
    if (at > textFrom) items.push({ kind: 'text', text: text.slice(textFrom, at) })
    items.push(found.item)
    textFrom = at + found.length
    re.lastIndex = textFrom
  }
  if (textFrom < text.length) items.push({ kind: 'text', text: text.slice(textFrom) })
  return items
}

/** `` `code` ``: closed by a run of as many backticks on the same line. */
function codeSpan(text: string, at: number, length: number): { item: Item; length: number } | null {
  const lineEnd = text.indexOf('\n', at)
  const close = nextRun(text, '`', at + length, length, length, lineEnd < 0 ? text.length : lineEnd)
  if (!close) return null
  let content = text.slice(at + length, close.at)
  if (content.trim() === '') return null
  if (content.length > 2 && content.startsWith(' ') && content.endsWith(' ')) content = content.slice(1, -1)
  return { item: { kind: 'code', text: content }, length: close.at + close.length - at }
}

function atom(text: string, at: number, found: string): { item: Item; length: number } | null {
  const char = found[0]!
  if (char === '*' || char === '_' || char === '~') {
    if (!EMPHASIS[found]) return null
    const before = text[at - 1]
    const after = text[at + found.length]
    const canOpen = after !== undefined && !SPACE.test(after) && (before === undefined || !WORD.test(before))
    const canClose = before !== undefined && !SPACE.test(before) && (after === undefined || !WORD.test(after))
    if (!canOpen && !canClose) return null
    return { item: { kind: 'marker', raw: found, canOpen, canClose }, length: found.length }
  }
  if (at > 0 && NOT_BEFORE_LINK.test(text[at - 1]!)) return null
  if (char === 'p' || char === 'P') {
    INVITE.lastIndex = at
    const invite = INVITE.exec(text)
    if (invite)
      return { item: { kind: 'invite', text: invite[0], code: invite[1]! }, length: invite[0].length }
    MESSAGE_LINK.lastIndex = at
    const link = MESSAGE_LINK.exec(text)
    const messageId = link ? messageIdOf(link[0]) : null
    return link && messageId !== null
      ? { item: { kind: 'message-link', text: link[0], messageId }, length: link[0].length }
      : null
  }
  URL_BODY.lastIndex = at
  const body = URL_BODY.exec(text)
  if (!body) return null
  const written = trimTrailing(body[0])
  const href = /^www\./i.test(written) ? `https://${written}` : written
  return safeLink(href, written)
    ? { item: { kind: 'link', text: written, href }, length: written.length }
    : null
}

/** Punctuation after an address ends the sentence, not the address; so does a `)` it did not open. */
function trimTrailing(address: string): string {
  const count = (char: string) => address.split(char).length - 1
  let unopened = { ')': count(')') - count('('), ']': count(']') - count('[') }
  let end = address.length
  for (;;) {
    const last = address[end - 1]!
    if (TRAILING.has(last)) end--
    else if ((last === ')' || last === ']') && unopened[last] > 0) {
      unopened = { ...unopened, [last]: unopened[last] - 1 }
      end--
    } else break
  }
  return address.slice(0, end)
}

/** http(s) with a real host and no user:password@ (a classic disguise of the real host). */
function safeLink(href: string, written: string): boolean {
  if (href.length > MAX_URL) return false
  let url: URL
  try {
    url = new URL(href)
  } catch {
    return false
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false
  if (url.username || url.password || !url.hostname) return false
  // `www.` alone, or `www.x` without a domain after it, is a word.
  return !/^www\./i.test(written) || /^www\.[^.]+\.[^.]/i.test(url.hostname)
}

function parseInline(text: string): Inline[] {
  const out: Item[] = []
  const depth = new WeakMap<Inline, number>()
  /** Indexes in `out` of markers that may still open, per marker (`*`, `**`, `_`, `~`, `~~`). */
  const openers = new Map<string, number[]>()
  for (const item of tokens(text)) {
    if (item.kind !== 'marker') {
      out.push(item)
      continue
    }
    const stack = openers.get(item.raw)
    const opener = item.canClose ? stack?.at(-1) : undefined
    if (opener !== undefined) {
      stack!.pop()
      const children = settle(out.splice(opener + 1))
      const inner = Math.max(0, ...children.map((child) => depth.get(child) ?? 0))
      // Openers inside what just closed can no longer close: they were text.
      for (const other of openers.values()) while ((other.at(-1) ?? -1) > opener) other.pop()
      if (inner >= MAX_DEPTH) {
        out.splice(opener, 1, { kind: 'text', text: item.raw }, ...children, { kind: 'text', text: item.raw })
        continue
      }
      const node: Inline = { kind: EMPHASIS[item.raw]!, children }
      depth.set(node, inner + 1)
      out[opener] = node
      continue
    }
    if (item.canOpen) {
      if (!stack) openers.set(item.raw, [out.length])
      else stack.push(out.length)
      out.push(item)
    } else out.push({ kind: 'text', text: item.raw })
  }
  return settle(out)
}

/** Markers left open are text; neighbouring texts join. */
function settle(items: Item[]): Inline[] {
  const out: Inline[] = []
  for (const item of items) {
    const inline: Inline = item.kind === 'marker' ? { kind: 'text', text: item.raw } : item
    const last = out.at(-1)
    if (inline.kind === 'text' && last?.kind === 'text')
      out[out.length - 1] = { kind: 'text', text: last.text + inline.text }
    else out.push(inline)
  }
  return out
}

function withMentions(nodes: Inline[], names: ReadonlySet<string>): Inline[] {
  if (names.size === 0) return nodes
  return nodes.flatMap((node): Inline[] => {
    if (node.kind === 'text')
      return splitMentions(node.text, names).map((part) =>
        part.mention ? { kind: 'mention', text: part.text } : { kind: 'text', text: part.text },
      )
    if (node.kind === 'bold' || node.kind === 'italic' || node.kind === 'strike')
      return [{ kind: node.kind, children: withMentions(node.children, names) }]
    return [node]
  })
}

/** The written text of a tree, markers left out (what a screen reader or a search needs). */
export function plainText(blocks: Block[]): string {
  const inline = (nodes: Inline[]): string =>
    nodes.map((node) => ('children' in node ? inline(node.children) : node.text)).join('')
  return blocks.map((block) => (block.kind === 'code-block' ? block.text : inline(block.children))).join('\n')
}

// The `v` flag (Unicode sets: whole emoji sequences as one) is newer than the TypeScript target.
// biome-ignore lint/complexity/useRegexLiterals: a literal with `v` does not compile for ES2023
const EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v')
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/** How many emoji a message is, if it is one to three emoji and nothing else (shown large); else 0. */
export function emojiOnly(text: string): number {
  const trimmed = text.trim()
  if (trimmed === '' || trimmed.length > 64) return 0
  let count = 0
  for (const { segment } of graphemes.segment(trimmed)) {
    if (SPACE.test(segment)) continue
    if (!EMOJI.test(segment) || ++count > 3) return 0
  }
  return count
}
