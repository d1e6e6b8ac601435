import type { OutboxKind } from './schema'

/**
 * What an outbox row asks the relay to do, by kind. The table keeps the kind in its own column and
 * the rest as JSON in `payload`; this module is the only one that writes or reads that JSON.
 */
export type OutboxOp =
  | { kind: 'send' }
  | { kind: 'edit'; text: string }
  | { kind: 'delete' }
  /** Delete for me: the message leaves this account's views on every device. */
  | { kind: 'hide' }
  /** The wanted state, not a toggle: a resend after a lost ack cannot undo itself. */
  | { kind: 'react'; emoji: string; present: boolean }
  | { kind: 'read'; upTo: number }
  | { kind: 'delivered'; upTo: number }

export type OutboxOpOf<K extends OutboxKind> = Extract<OutboxOp, { kind: K }>

/** The `payload` column for an op (the same JSON earlier builds wrote, so stored rows still read). */
export function encodePayload(op: OutboxOp): string {
  switch (op.kind) {
    case 'send':
    case 'delete':
    case 'hide':
      return '{}'
    case 'edit':
      return JSON.stringify({ text: op.text })
    case 'react':
      return JSON.stringify({ emoji: op.emoji, present: op.present })
    case 'read':
    case 'delivered':
      return JSON.stringify({ upTo: op.upTo })
  }
}

/**
 * The op of a stored row. A payload that is not what its kind needs (a hand-edited or damaged row)
 * reads with neutral values rather than throwing inside the outbox loop.
 */
export function decodeOp(row: { kind: OutboxKind; payload: string }): OutboxOp {
  const p = parse(row.payload)
  switch (row.kind) {
    case 'send':
    case 'delete':
    case 'hide':
      return { kind: row.kind }
    case 'edit':
      return { kind: 'edit', text: typeof p.text === 'string' ? p.text : '' }
    case 'react':
      return {
        kind: 'react',
        emoji: typeof p.emoji === 'string' ? p.emoji : '',
        present: typeof p.present === 'boolean' ? p.present : true,
      }
    case 'read':
    case 'delivered':
      return { kind: row.kind, upTo: typeof p.upTo === 'number' ? p.upTo : 0 }
  }
}

function parse(payload: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(payload)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}
