import type { Reaction } from '@parley/shared'

/** `reactions` with `userId`'s `emoji` present or absent; a new emoji goes last, as on the relay. */
export function withReaction(
  reactions: Reaction[],
  emoji: string,
  userId: number,
  present: boolean,
): Reaction[] {
  const result: Reaction[] = []
  let found = false
  for (const r of reactions) {
    if (r.emoji !== emoji) {
      result.push(r)
      continue
    }
    found = true
    const others = r.userIds.filter((id) => id !== userId)
    const userIds = present ? [...others, userId] : others
    if (userIds.length > 0) result.push({ emoji, userIds })
  }
  if (!found && present) result.push({ emoji, userIds: [userId] })
  return result
}

export function hasReaction(reactions: Reaction[], emoji: string, userId: number): boolean {
  return reactions.some((r) => r.emoji === emoji && r.userIds.includes(userId))
}
