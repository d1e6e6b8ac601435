import type { FileView, ReplyQuote, VoiceView } from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { MessageRow } from '../schema'
import { messageRowByServerId } from '../tables/messages'
import { personRef } from './groups'

// A reply's quote, drawn from this device's copy of the original (the relay sends only its id):
// never the text of a deleted original, nor anything of one this account hid.

export function replyQuote(db: LocalDb, me: number, row: MessageRow): ReplyQuote | null {
  if (row.reply_to_id === null) return null
  const original = messageRowByServerId(db, row.reply_to_id)
  const quote: ReplyQuote = {
    id: row.reply_to_id,
    state: 'missing',
    localId: null,
    position: null,
    sender: null,
    text: null,
    imageId: null,
    fileName: null,
    voice: false,
  }
  if (!original || original.hidden === 1 || original.conversation_id !== row.conversation_id) return quote
  quote.localId = original.local_id
  quote.position = original.sort_key
  quote.sender = personRef(db, me, original.sender_id)
  if (original.deleted_at !== null) return { ...quote, state: 'deleted' }
  return {
    ...quote,
    state: 'shown',
    text: firstLine(original.text),
    imageId: original.image_id,
    fileName: parseFile(original.file)?.name ?? null,
    voice: original.voice !== null,
  }
}

/** The first line with something on it, cut to what a quote shows. */
function firstLine(text: string | null): string | null {
  const line = text
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '')
  if (!line) return null
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}

/** A stored file column (JSON), or null when there is none or it does not read. */
export function parseFile(json: string | null, local = false): FileView | null {
  const value = parseJson(json)
  if (!value || typeof value.id !== 'string' || typeof value.name !== 'string') return null
  return {
    id: value.id,
    name: value.name,
    size: typeof value.size === 'number' ? value.size : 0,
    type: typeof value.type === 'string' ? value.type : 'application/octet-stream',
    local,
  }
}

/**
 * A stored voice column (JSON), or null when there is none or it does not read. `file` is the
 * message's file column when it has one: a voice message written here keeps its recording there
 * (a local copy's id, then the relay's once uploaded) until the relay's copy of the message replaces it.
 */
export function parseVoice(
  json: string | null,
  played: boolean,
  file: FileView | null = null,
): VoiceView | null {
  const value = parseJson(json)
  const recording = file ?? (value && parseFile(JSON.stringify(value.file)))
  if (!value || !recording || typeof value.durationMs !== 'number' || !Array.isArray(value.waveform))
    return null
  return {
    file: recording,
    durationMs: value.durationMs,
    waveform: value.waveform as number[],
    played,
  }
}

function parseJson(json: string | null): Record<string, unknown> | null {
  if (json === null) return null
  try {
    const value: unknown = JSON.parse(json)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}
