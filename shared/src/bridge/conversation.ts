// Which conversation: the one key the bridge, the local store and the renderer use for a 1:1
// conversation (`dm:<userId>`, the other person) and a group (`group:<groupId>`) alike, so that a
// conversation needs no second set of methods. Plain TypeScript: the renderer imports this module
// on its own (`@parley/shared/conversation`), without the schema libraries; the schema is
// `ConversationKeySchema` in views.ts.

export type ConversationKey = `dm:${number}` | `group:${number}`
export type ConversationKind = 'dm' | 'group'

/** A key, parsed: for a `dm`, `id` is the other person's user id; for a `group`, the group's id. */
export interface ConversationRef {
  kind: ConversationKind
  id: number
}

/** Both kinds, ids as the relay's (positive, at most 16 digits: a safe integer). */
export const CONVERSATION_KEY_PATTERN = '^(dm|group):[1-9][0-9]{0,15}$'
const KEY = new RegExp(CONVERSATION_KEY_PATTERN)
/** A group's key only. */
export const GROUP_KEY_PATTERN = '^group:[1-9][0-9]{0,15}$'

/** Accepts a bare code or a `parley://join/<code>` link and returns the code; null for anything else. */
export function inviteCodeOf(value: string): string | null {
  const m = /^\s*(?:parley:\/\/join\/)?([A-Za-z0-9]{16,64})\s*$/.exec(value)
  return m ? (m[1] as string) : null
}

/** The link that opens an invite's join screen in the app. */
export function inviteLink(code: string): string {
  return `parley://join/${code}`
}

/**
 * The link to one message, by its relay id: the same for everyone who can see it (a conversation's
 * key is not: `dm:<id>` names the other person). Opening it shows the message in its conversation.
 */
export function messageLink(messageId: number): string {
  return `parley://message/${messageId}`
}

/** The message id of a `parley://message/<id>` link (a trailing slash allowed); null for anything else. */
export function messageIdOf(value: string): number | null {
  const m = /^\s*parley:\/\/message\/([1-9][0-9]{0,15})\/?\s*$/i.exec(value)
  if (!m) return null
  const id = Number(m[1])
  return Number.isSafeInteger(id) ? id : null
}

/** The 1:1 conversation with a user. */
export function dmKey(userId: number): ConversationKey {
  return `dm:${userId}`
}

export function groupKey(groupId: number): ConversationKey {
  return `group:${groupId}`
}

export function isConversationKey(value: unknown): value is ConversationKey {
  return typeof value === 'string' && KEY.test(value) && Number.isSafeInteger(Number(value.split(':')[1]))
}

/** The kind and id of a key; null for anything that is not one. */
export function parseConversationKey(value: unknown): ConversationRef | null {
  if (!isConversationKey(value)) return null
  const [kind, id] = value.split(':') as [ConversationKind, string]
  return { kind, id: Number(id) }
}

/** The other person of a 1:1 conversation; null for a group (or what is not a key). */
export function dmPeer(key: string): number | null {
  const ref = parseConversationKey(key)
  return ref?.kind === 'dm' ? ref.id : null
}
