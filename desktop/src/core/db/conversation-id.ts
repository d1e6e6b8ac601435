import { type ConversationKey, dmKey, groupKey, parseConversationKey } from '@parley/shared'

// How the `messages` table names a message's conversation: an integer, as the relay's ids are,
// rather than the text key every other table uses. An index on text keys made every synced page
// about a quarter slower (measured with npm run bench:desktop). A 1:1 conversation is the other
// person's user id (so rows stored before keys needed no rewrite), a group its id negated.

export function conversationId(key: ConversationKey): number {
  const ref = parseConversationKey(key)
  if (!ref) throw new Error(`Not a conversation key: ${key}`)
  return ref.kind === 'dm' ? ref.id : -ref.id
}

export function conversationKeyOf(id: number): ConversationKey {
  return id > 0 ? dmKey(id) : groupKey(-id)
}

/** `conversationId` in SQL, of a column holding a key (`conversations.key`). */
export function conversationIdSql(keyColumn: string): string {
  return `(case when ${keyColumn} like 'dm:%' then cast(substr(${keyColumn}, 4) as integer)
    else -cast(substr(${keyColumn}, 7) as integer) end)`
}
