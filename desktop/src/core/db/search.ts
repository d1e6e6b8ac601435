import type { ConversationKey, SearchHit } from '@parley/shared'
import { conversationId } from './conversation-id'
import type { LocalDb } from './local-db'
import { messageRowsByLocalIds } from './tables/messages'
import { messageViews } from './views/messages'

const MAX_TERMS = 16
/** Words shown around the first match in a snippet. */
const SNIPPET_WORDS = 12
/**
 * Context before the first match: up to this many words, within this many characters, so that the
 * match stays in sight in a list one line wide (a few long words before it pushed it out of view).
 */
const LEAD_WORDS = 3
const LEAD_CHARS = 24
const WORD = /[\p{L}\p{N}\p{Co}]+/gu
/**
 * bm25 ranks the newest this-many matches, not all of them: FTS5 hands matches over newest first
 * (by rowid) and stops there, so a word found in 100,000 messages costs as much as a rare one.
 * A messenger's searcher wants recent messages anyway; paging deeper widens the window.
 */
export const RANKED_CANDIDATES = 2000

/**
 * Turns what a person typed into an FTS5 query: every word is matched as a prefix ("par" finds
 * "Parley"), all words must match, and FTS5 syntax in the input is never interpreted (each word is
 * quoted). Words are split the way the unicode61 tokenizer splits them.
 */
export function matchExpression(input: string): string | null {
  const words = queryWords(input)
  if (words.length === 0) return null
  return words.map((w) => `"${w.replaceAll('"', '""')}"*`).join(' ')
}

function queryWords(input: string): string[] {
  return input
    .normalize('NFKC')
    .split(/[^\p{L}\p{N}\p{Co}]+/u)
    .filter((w) => w.length > 0)
    .slice(0, MAX_TERMS)
}

/** As the unicode61 tokenizer with remove_diacritics compares words: case and accents folded. */
function fold(word: string): string {
  return word.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
}

/**
 * Full-text search over cached message text, best first (bm25) among the newest matches, newest
 * (latest to arrive) first among equals, with the matching words highlighted.
 */
export function searchMessages(
  db: LocalDb,
  me: number,
  query: { q: string; conversation?: ConversationKey | undefined; limit: number; offset: number },
): SearchHit[] {
  const match = matchExpression(query.q)
  if (!match) return []
  const inConversation = query.conversation !== undefined
  const candidates = Math.max(RANKED_CANDIDATES, query.offset + query.limit)
  // Ties are broken by local_id (the order messages reached this device: feed order), inside the
  // FTS query: joining every candidate to its row for the relay's order cost more than the search.
  const ranked = db
    .prepare(
      `select localId, rank from (
         select messages_fts.rowid as localId, bm25(messages_fts) as rank
         from messages_fts ${inConversation ? 'join messages m on m.local_id = messages_fts.rowid' : ''}
         where messages_fts match ? ${inConversation ? 'and m.conversation_id = ?' : ''}
         order by messages_fts.rowid desc limit ?
       )
       order by rank, localId desc
       limit ? offset ?`,
    )
    .all(
      ...(inConversation ? [match, conversationId(query.conversation as ConversationKey)] : [match]),
      candidates,
      query.limit,
      query.offset,
    ) as {
    localId: number
    rank: number
  }[]
  if (ranked.length === 0) return []
  const rows = new Map(
    messageRowsByLocalIds(
      db,
      ranked.map((r) => r.localId),
    ).map((r) => [r.local_id, r]),
  )
  const prefixes = queryWords(query.q).map(fold)
  const views = new Map(messageViews(db, me, [...rows.values()]).map((v) => [v.localId, v]))
  return ranked.flatMap((r) => {
    const message = views.get(r.localId)
    if (!message) return []
    return [{ message, snippet: snippet(rows.get(r.localId)?.text ?? '', prefixes), rank: r.rank }]
  })
}

/**
 * The words around the first match, matching words marked, on one line (runs of white space are
 * one space). The match comes early: a short text is shown from its start, a longer one from a
 * few words before the match. Built here rather than with FTS5's snippet(): that runs a query per
 * hit, and each re-expands every prefix term (a word of four letters or more has no prefix index),
 * which made snippets cost several times the search itself. Words match as the search does: a
 * text word matches if it starts with a query word.
 */
export function snippet(text: string, prefixes: readonly string[]): { text: string; match: boolean }[] {
  const words = [...text.matchAll(WORD)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
    match: prefixes.some((p) => fold(m[0]).startsWith(p)),
  }))
  if (words.length === 0) return text ? [{ text: oneLine(text), match: false }] : []
  const first = Math.max(
    0,
    words.findIndex((w) => w.match),
  )
  const matchAt = words[first]!.start
  let from = first
  if (matchAt <= LEAD_CHARS) from = 0
  else while (from > 0 && first - from < LEAD_WORDS && matchAt - words[from - 1]!.start <= LEAD_CHARS) from--
  const shown = words.slice(from, from + SNIPPET_WORDS)
  const parts: { text: string; match: boolean }[] = []
  const push = (raw: string, match: boolean) => {
    const part = oneLine(raw)
    if (!part) return
    const last = parts.at(-1)
    if (last && last.match === match) last.text += part
    else parts.push({ text: part, match })
  }
  let at = from === 0 ? 0 : shown[0]!.start
  if (from > 0) push('…', false)
  for (const word of shown) {
    push(text.slice(at, word.start), false)
    push(text.slice(word.start, word.end), word.match)
    at = word.end
  }
  const lastShown = shown.at(-1)!
  if (from + SNIPPET_WORDS < words.length)
    push(`${text.slice(at, words[from + SNIPPET_WORDS]!.start).trimEnd()}…`, false)
  else push(text.slice(lastShown.end), false)
  return parts
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ')
}
