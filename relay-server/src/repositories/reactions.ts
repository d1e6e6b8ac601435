import type { Reaction } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'

type Db = Kysely<Database>

/** Reactions of these messages, grouped by emoji in the order each emoji first appeared. */
export async function reactionsFor(db: Db, messageIds: readonly number[]): Promise<Map<number, Reaction[]>> {
  const result = new Map<number, Reaction[]>()
  if (messageIds.length === 0) return result
  const rows = await db
    .selectFrom('reactions')
    .select(['message_id', 'user_id', 'emoji'])
    .where('message_id', 'in', [...new Set(messageIds)])
    .orderBy('created_at')
    .orderBy('user_id')
    .execute()
  for (const row of rows) {
    const list = result.get(row.message_id) ?? []
    if (list.length === 0) result.set(row.message_id, list)
    const reaction = list.find((r) => r.emoji === row.emoji)
    if (reaction) reaction.userIds.push(row.user_id)
    else list.push({ emoji: row.emoji, userIds: [row.user_id] })
  }
  return result
}

/** The emoji `userId` has put on the message. */
export async function emojiOf(db: Db, messageId: number, userId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('reactions')
    .select('emoji')
    .where('message_id', '=', messageId)
    .where('user_id', '=', userId)
    .execute()
  return rows.map((r) => r.emoji)
}

export async function addReaction(
  db: Db,
  reaction: { messageId: number; userId: number; emoji: string; now: number },
): Promise<void> {
  await db
    .insertInto('reactions')
    .values({
      message_id: reaction.messageId,
      user_id: reaction.userId,
      emoji: reaction.emoji,
      created_at: reaction.now,
    })
    .execute()
}

export async function removeReaction(
  db: Db,
  reaction: { messageId: number; userId: number; emoji: string },
): Promise<void> {
  await db
    .deleteFrom('reactions')
    .where('message_id', '=', reaction.messageId)
    .where('user_id', '=', reaction.userId)
    .where('emoji', '=', reaction.emoji)
    .execute()
}

export async function removeAllReactions(db: Db, messageId: number): Promise<void> {
  await db.deleteFrom('reactions').where('message_id', '=', messageId).execute()
}
