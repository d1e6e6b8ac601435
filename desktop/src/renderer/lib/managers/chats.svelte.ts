import type { ContactView, ConversationKey, ConversationView, UnreadCounts, UserView } from '@parley/shared'
import { dmKey } from '@parley/shared/conversation'
import { displayName } from '@parley/shared/display'
import { SvelteMap } from 'svelte/reactivity'

export { displayName }

import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import { BridgeFailure } from '../errors'
import type { DraftsState } from './drafts.svelte'

/** What an avatar shows: a person, or a conversation by its title and picture. */
export type Face = Pick<UserView, 'id' | 'firstName' | 'lastName' | 'username' | 'avatarImageId'>

/** One row of the sidebar: a conversation, or an accepted contact you have not written to yet. */
export interface ChatEntry {
  key: ConversationKey
  /** What the row is called and shows. */
  title: string
  face: Face | null
  /** The other person of a 1:1 conversation (null for a group, or someone never seen). */
  peer: UserView | null
  contact: ContactView | null
  conversation: ConversationView | null
  unread: number
  lastActivityAt: number
}

/** Whether a row matches what was typed in a filter (lower case): its title, or the person's names. */
export function matchesEntry(entry: ChatEntry, q: string): boolean {
  const p = entry.peer
  const words = p ? `${p.firstName} ${p.lastName} ${p.username}` : entry.title
  return words.toLowerCase().includes(q)
}

/**
 * The sidebar's data: conversations, contacts and requests, presence, typing and unread counts,
 * all kept current from the core's events.
 */
export class ChatsState {
  readonly #bridge: Bridge
  readonly #drafts: DraftsState
  #conversations = $state<ConversationView[]>([])
  #contacts = $state<ContactView[]>([])
  readonly #unread = new SvelteMap<ConversationKey, number>()
  /** Per conversation, who is typing in it. */
  readonly #typing = new SvelteMap<ConversationKey, readonly number[]>()
  #unreadTotal = $state(0)
  #loaded = $state(false)
  /** While a load is under way, the rows told after the list was read (the load must not undo them). */
  #toldSinceListed: Map<ConversationKey, ConversationView> | null = null

  constructor(bridge: Bridge, drafts: DraftsState) {
    this.#bridge = bridge
    this.#drafts = drafts
    bridge.on('contacts.changed', ({ contacts }) => {
      this.#contacts = contacts
    })
    bridge.on('presence.changed', ({ userId, presence }) => {
      this.#contacts = this.#contacts.map((c) => (c.user.id === userId ? { ...c, presence } : c))
    })
    bridge.on('typing.changed', ({ conversation, userId, typing }) => {
      const others = (this.#typing.get(conversation) ?? []).filter((id) => id !== userId)
      if (typing) this.#typing.set(conversation, [...others, userId])
      else if (others.length > 0) this.#typing.set(conversation, others)
      else this.#typing.delete(conversation)
    })
    bridge.on('unread.changed', (counts) => this.#setUnread(counts))
    // New, sent, edited messages move conversations and change previews: the core tells the rows
    // that changed, and only those.
    bridge.on('conversations.changed', ({ conversations }) => {
      for (const c of conversations) this.#toldSinceListed?.set(c.key, c)
      this.#conversations = withRows(this.#conversations, conversations)
    })
    // Events were missed while the link to the core was down: read everything again.
    bridge.onReconnect(() => {
      this.#typing.clear()
      if (this.#loaded) void this.load().catch(() => undefined)
    })
  }

  get loaded() {
    return this.#loaded
  }
  get contacts() {
    return this.#contacts
  }
  get unreadTotal() {
    return this.#unreadTotal
  }

  /** Conversations and accepted contacts, most recent activity first (computed once per change). */
  readonly entries: ChatEntry[] = $derived.by(() => this.#entries())

  #entries(): ChatEntry[] {
    const byKey = new Map<ConversationKey, ChatEntry>()
    for (const conversation of this.#conversations) {
      const { key, title, peer } = conversation
      byKey.set(key, {
        key,
        title,
        face: peer ?? groupFace(conversation),
        peer,
        contact: null,
        conversation,
        unread: this.#unread.get(key) ?? 0,
        lastActivityAt: conversation.lastActivityAt,
      })
    }
    // A contact is the 1:1 conversation with them, written to or not; their card is the freshest.
    for (const contact of this.#contacts) {
      const key = dmKey(contact.user.id)
      const entry = byKey.get(key)
      const person = { title: displayName(contact.user), face: contact.user, peer: contact.user, contact }
      if (entry) Object.assign(entry, person)
      else if (contact.status === 'accepted') {
        byKey.set(key, { key, ...person, conversation: null, unread: 0, lastActivityAt: contact.updatedAt })
      }
    }
    return [...byKey.values()].sort((a, b) => b.lastActivityAt - a.lastActivityAt)
  }

  /** A conversation's row (also for a contact not written to yet), if the list has it. */
  entry(key: ConversationKey): ChatEntry | null {
    return this.entries.find((e) => e.key === key) ?? null
  }

  /** Whether anyone is typing in a conversation. */
  isTyping(key: ConversationKey): boolean {
    return (this.#typing.get(key)?.length ?? 0) > 0
  }

  get incoming(): ContactView[] {
    return this.#contacts.filter((c) => c.status === 'incoming')
  }
  get outgoing(): ContactView[] {
    return this.#contacts.filter((c) => c.status === 'outgoing')
  }

  contact(userId: number): ContactView | null {
    return this.#contacts.find((c) => c.user.id === userId) ?? null
  }

  /** A person this device knows: a contact, or someone a conversation is with. */
  user(userId: number): UserView | null {
    return this.contact(userId)?.user ?? this.#conversations.find((c) => c.peer?.id === userId)?.peer ?? null
  }

  async load(): Promise<void> {
    const told = new Map<ConversationKey, ConversationView>()
    const listed = call(this.#bridge, 'conversations.list', {}).then((list) => {
      this.#toldSinceListed = told
      return list
    })
    const [conversations, contacts, unread] = await Promise.all([
      listed,
      call(this.#bridge, 'contacts.list', {}),
      call(this.#bridge, 'unread.get', {}),
    ]).finally(() => {
      if (this.#toldSinceListed === told) this.#toldSinceListed = null
    })
    this.#conversations = withRows(conversations, [...told.values()])
    this.#contacts = contacts
    this.#setUnread(unread)
    this.#drafts.seed(conversations)
    this.#loaded = true
  }

  #setUnread(counts: UnreadCounts): void {
    this.#unreadTotal = counts.total
    const seen = new Set<ConversationKey>()
    for (const { conversation, count } of counts.conversations) {
      seen.add(conversation)
      if (this.#unread.get(conversation) !== count) this.#unread.set(conversation, count)
    }
    for (const key of [...this.#unread.keys()]) if (!seen.has(key)) this.#unread.delete(key)
  }

  // Contact actions: the core emits contacts.changed, which updates the list.
  add(username: string) {
    return call(this.#bridge, 'contacts.add', { username })
  }
  accept(userId: number) {
    return call(this.#bridge, 'contacts.accept', { userId })
  }
  /**
   * Lifts a block: back to being contacts where the other side still counts you as one, else the
   * block simply goes (the relay refuses to "accept" someone who is not a contact any more).
   */
  async unblock(userId: number): Promise<void> {
    try {
      await call(this.#bridge, 'contacts.accept', { userId })
    } catch (error) {
      if (!(error instanceof BridgeFailure) || error.code !== 'invalid_transition') throw error
      await call(this.#bridge, 'contacts.remove', { userId })
    }
  }
  block(userId: number) {
    return call(this.#bridge, 'contacts.block', { userId })
  }
  remove(userId: number) {
    return call(this.#bridge, 'contacts.remove', { userId })
  }
  search(q: string) {
    return call(this.#bridge, 'users.search', { q, limit: 8 })
  }
}

/** A group's picture, else initials of its title's first two words, in a colour of its own. */
function groupFace(conversation: ConversationView): Face {
  const [first = '', ...rest] = conversation.title.trim().split(/\s+/)
  const id = Number(conversation.key.split(':')[1]) || 0
  return {
    id,
    firstName: first,
    lastName: rest.join(' '),
    username: conversation.title,
    avatarImageId: conversation.avatarImageId,
  }
}

/** The list with these rows in place of the ones for the same conversations, new ones added. */
function withRows(list: ConversationView[], rows: readonly ConversationView[]): ConversationView[] {
  if (rows.length === 0) return list
  const byKey = new Map(rows.map((r) => [r.key, r]))
  const updated = list.map((c) => {
    const row = byKey.get(c.key)
    if (!row) return c
    byKey.delete(c.key)
    return row
  })
  return [...updated, ...byKey.values()]
}
