// What the renderer shows and offers in a group, as plain functions without the schema libraries
// (`@parley/shared/groups`): invite links pasted in any form, @mention completion and marking, and
// which member actions to offer (the relay decides; this only hides what it would refuse).

export { inviteLink } from './conversation'

const CODE = /^[A-Za-z0-9]{16,64}$/

/**
 * The invite code in what someone pasted: the code itself, a `parley://join/<code>` link, or any
 * address ending in `/join/<code>`; null when there is none.
 */
export function parseInvite(input: string): string | null {
  const text = input.trim()
  if (CODE.test(text)) return text
  const match = /\/join\/([A-Za-z0-9]+)\/?(?:[?#].*)?$/.exec(text)
  return match?.[1] && CODE.test(match[1]) ? match[1] : null
}

/** A sender's colour in a group, steady per person (the same hue as their initials). */
export function senderHue(userId: number): number {
  return (userId * 47) % 360
}

/**
 * The mention being typed at the caret: the `@` and the word after it, if the caret is in one
 * (an `@` at the start or after a space, then letters, digits, `_` or `.`).
 */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret)
  const match = /(^|\s)@([\p{L}\p{N}_.]{0,32})$/u.exec(before)
  if (!match) return null
  return { start: caret - match[2]!.length - 1, query: match[2]!.toLowerCase() }
}

export interface Mentionable {
  userId: number
  username: string
  firstName: string
  lastName: string
}

/** Members matching what follows the `@`: by username or either name, those starting with it first. */
export function mentionMatches<T extends Mentionable>(people: readonly T[], query: string, limit = 6): T[] {
  const q = query.toLowerCase()
  const scored: { person: T; score: number }[] = []
  for (const person of people) {
    const words = [person.username, person.firstName, person.lastName].map((w) => w.toLowerCase())
    const score = words.some((w) => w.startsWith(q)) ? 0 : words.some((w) => w.includes(q)) ? 1 : -1
    if (score >= 0) scored.push({ person, score })
  }
  scored.sort(
    (a, b) =>
      a.score - b.score ||
      a.person.firstName.localeCompare(b.person.firstName) ||
      a.person.userId - b.person.userId,
  )
  return scored.slice(0, limit).map((s) => s.person)
}

/** The text put in place of `@query` for a chosen member (a space after, to type on). */
export function insertMention(
  text: string,
  at: { start: number; query: string },
  caret: number,
  username: string,
): { text: string; caret: number } {
  const inserted = `@${username} `
  const next = text.slice(0, at.start) + inserted + text.slice(caret)
  return { text: next, caret: at.start + inserted.length }
}

/** Pieces of a message's text, `@username` of a member marked, for highlighting. */
export function splitMentions(
  text: string,
  usernames: ReadonlySet<string>,
): { text: string; mention?: string }[] {
  const out: { text: string; mention?: string }[] = []
  let last = 0
  for (const match of text.matchAll(/(^|[^\p{L}\p{N}_])@([A-Za-z0-9_.]{1,32})/gu)) {
    const name = match[2]!.replace(/\.+$/, '')
    if (!usernames.has(name.toLowerCase())) continue
    const start = match.index + match[1]!.length
    if (start > last) out.push({ text: text.slice(last, start) })
    out.push({ text: `@${name}`, mention: name })
    last = start + name.length + 1
  }
  if (last < text.length) out.push({ text: text.slice(last) })
  return out
}

export type Role = 'owner' | 'admin' | 'member'

export const ROLE_LABEL: Record<Role, string> = { owner: 'Owner', admin: 'Admin', member: 'Member' }

/** What you may do to a member, given your role and theirs. */
export function allowedActions(mine: Role | null, theirs: Role, self: boolean) {
  const manager = mine === 'owner' || mine === 'admin'
  return {
    promote: manager && !self && theirs === 'member',
    demote: manager && !self && theirs === 'admin',
    remove: manager && !self && theirs !== 'owner',
    handOver: mine === 'owner' && !self,
  }
}

/** Why a read-only group is read only, as a sentence (null: the reason is not known here). */
export function endedNotice(reason: 'left' | 'removed' | 'deleted' | null): string {
  const why = {
    left: 'You left this group.',
    removed: 'You were removed from this group.',
    deleted: 'The owner deleted this group.',
  } as const
  const first = reason ? why[reason] : 'You are no longer a member of this group.'
  return `${first} You can read what you had, but not write.`
}
