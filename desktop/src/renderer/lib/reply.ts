import type { MessageView, ReplyQuote } from '@parley/shared'

// What a reply shows of the message it answers: in the composer while you write it, and as the
// quote in its bubble. One line: the first line of the text, else what the message holds.

/** The first line with something on it. */
function firstLine(text: string | null): string | null {
  return (
    text
      ?.split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? null
  )
}

/** The line the composer shows for the message you are answering. */
export function replyLine(message: MessageView): string {
  return (
    firstLine(message.text) ??
    (message.image ? 'Photo' : (message.file?.name ?? (message.voice ? 'Voice message' : 'Message')))
  )
}

/** The line a bubble's quote shows: never anything of a deleted original. */
export function quoteLine(quote: ReplyQuote): string {
  if (quote.state === 'missing') return 'Original message not available'
  if (quote.state === 'deleted') return 'Deleted message'
  return (
    quote.text ?? (quote.imageId ? 'Photo' : (quote.fileName ?? (quote.voice ? 'Voice message' : 'Message')))
  )
}
