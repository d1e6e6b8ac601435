// What the composer and a failed message need to know about sending, with no schema library behind
// it: the renderer imports this module on its own (`@parley/shared/sending`).
import type { BridgeErrorCode } from './errors'

/**
 * Refusals that judge the message itself (its picture, its text, who it is to), so sending it again
 * unchanged can never succeed: the app offers to discard such a message, not to retry it. Every
 * other failure (the network, a contact not accepted yet, a full relay) may pass later.
 */
const FINAL_REFUSALS: ReadonlySet<BridgeErrorCode> = new Set<BridgeErrorCode>([
  'unsupported_image',
  'invalid_image',
  'image_dimensions_too_large',
  'image_too_large',
  'payload_too_large',
  'unsupported_media_type',
  'validation_failed',
  'invalid_params',
  'cannot_contact_self',
  'client_id_conflict',
  'message_deleted',
  'not_message_sender',
  'user_not_found',
])

/** Whether a failed send or change may succeed if tried again unchanged. */
export function canRetry(code: BridgeErrorCode): boolean {
  return !FINAL_REFUSALS.has(code)
}

/**
 * Cuts a text too long for one message into messages of at most `max` characters, each as natural
 * as the text allows: between paragraphs, else between lines, else after a sentence, else between
 * words, and only as a last resort inside a word (never inside a character's surrogate pair). The
 * white space at a cut is dropped; everything else is kept, in order. Parts are never empty.
 */
export function splitMessage(text: string, max: number): string[] {
  const parts: string[] = []
  let rest = text.trim()
  while (rest.length > max) {
    const cut = cutPoint(rest, max)
    const part = rest.slice(0, cut).trimEnd()
    if (part) parts.push(part)
    rest = rest.slice(cut).trimStart()
  }
  if (rest) parts.push(rest)
  return parts
}

/** Boundaries from the most natural to the least; a cut goes before the match or after it. */
const BOUNDARIES: readonly { pattern: RegExp; cut: 'before' | 'after' }[] = [
  { pattern: /\n\s*\n/g, cut: 'before' },
  { pattern: /\n/g, cut: 'before' },
  { pattern: /[.!?…。！？]["'”’)\]]*\s/g, cut: 'after' },
  { pattern: /\s/g, cut: 'before' },
]

/** Where to end the first part of `text` (longer than `max`): the natural boundary nearest `max`. */
function cutPoint(text: string, max: number): number {
  const window = text.slice(0, max + 1)
  // A boundary in the first half would make a part needlessly short; prefer a weaker one later.
  const floor = Math.floor(max / 2)
  for (const { pattern, cut } of BOUNDARIES) {
    let best = -1
    for (const match of window.matchAll(pattern)) {
      if (match.index >= floor) best = cut === 'before' ? match.index : match.index + match[0].length
    }
    // A cut just past `max` lands on the white space the part drops anyway.
    if (best > 0) return Math.min(best, max)
  }
  // No boundary: cut at `max`, but not between the two halves of a surrogate pair.
  const code = text.charCodeAt(max - 1)
  return code >= 0xd800 && code <= 0xdbff ? max - 1 : max
}
