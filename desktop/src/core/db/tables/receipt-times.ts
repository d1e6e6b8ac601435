import type { ConversationKey } from '@parley/shared'
import type { LocalDb } from '../local-db'

// The `receipt_times` table: when receipt markers moved, as the relay's feed said.

export type Whose = 'own' | 'peer'

/** A receipt from the feed moved a marker at relay time `at`; again is harmless. */
export function recordReceiptTime(
  db: LocalDb,
  mark: { conversation: ConversationKey; whose: Whose; kind: 'delivered' | 'read'; upTo: number; at: number },
): void {
  db.prepare(
    `insert into receipt_times (conversation, whose, kind, up_to, at) values ($conversation, $whose, $kind, $upTo, $at)
     on conflict do nothing`,
  ).run(mark)
}

/**
 * When `whose` marker first reached message `serverId` (a relay id) of a conversation, as far as
 * this device heard; reading counts as receiving. Null where unknown.
 */
export function receiptTimesOf(
  db: LocalDb,
  conversation: ConversationKey,
  whose: Whose,
  serverId: number,
): { deliveredAt: number | null; readAt: number | null } {
  const rows = db
    .prepare(
      `select kind, min(at) as at from receipt_times
       where conversation = ? and whose = ? and up_to >= ? group by kind`,
    )
    .all(conversation, whose, serverId) as { kind: 'delivered' | 'read'; at: number }[]
  const readAt = rows.find((r) => r.kind === 'read')?.at ?? null
  const times = rows.map((r) => r.at)
  return { deliveredAt: times.length > 0 ? Math.min(...times) : null, readAt }
}
