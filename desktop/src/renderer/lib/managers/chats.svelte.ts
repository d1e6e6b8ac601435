import type { ContactView, ConversationView, UserView } from '@parley/shared'
import { SvelteMap, SvelteSet } from 'svelte/reactivity'

export { displayName } from '@parley/shared/display'

import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import { BridgeFailure } from '../errors'
import type { DraftsState } from './drafts.svelte'

/** One row of the sidebar: a conversation, or an accepted contact you have not written to yet. */
export interface ChatEntry {
  peerId: number
  peer: UserView | null
  contact: ContactView | null
  conversation: ConversationView | null
  unread: number
  lastActivityAt: number
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
  readonly #unread = new SvelteMap<number, number>()
  readonly typing = new SvelteSet<number>()
  #unreadTotal = $state(0)
  #loaded = $state(false)
  /** While a load is under way, the rows told after the list was read (the load must not undo them). */
  #toldSinceListed: Map<number, ConversationView> | null = null

  constructor(bridge: Bridge, drafts: DraftsState) {
    this.#bridge = bridge
    this.#drafts = drafts
    bridge.on('contacts.changed', ({ contacts }) => {
      this.#contacts = contacts
    })
    bridge.on('presence.changed', ({ userId, presence }) => {
      this.#contacts = this.#contacts.map((c) => (c.user.id === userId ? { ...c, presence } : c))
    })
    bridge.on('typing.changed', ({ userId, typing }) => {
      if (typing) this.typing.add(userId)
      else this.typing.delete(userId)
    })
    bridge.on('unread.changed', (counts) => this.#setUnread(counts))
    // New, sent, edited messages move conversations and change previews: the core tells the rows
    // that changed, and only those.
    bridge.on('conversations.changed', ({ conversations }) => {
      for (const c of conversations) this.#toldSinceListed?.set(c.peerId, c)
      this.#conversations = withRows(this.#conversations, conversations)
    })
    // Events were missed while the link to the core was down: read everything again.
    bridge.onReconnect(() => {
      this.typing.clear()
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
    const byPeer = new Map<number, ChatEntry>()
    for (const conversation of this.#conversations) {
      byPeer.set(conversation.peerId, {
        peerId: conversation.peerId,
        peer: conversation.peer,
        contact: null,
        conversation,
        unread: this.#unread.get(conversation.peerId) ?? 0,
        lastActivityAt: conversation.lastActivityAt,
      })
    }
    for (const contact of this.#contacts) {
      const entry = byPeer.get(contact.user.id)
      if (entry) {
        entry.contact = contact
        entry.peer = contact.user
      } else if (contact.status === 'accepted') {
        byPeer.set(contact.user.id, {
          peerId: contact.user.id,
          peer: contact.user,
          contact,
          conversation: null,
          unread: 0,
          lastActivityAt: contact.updatedAt,
        })
      }
    }
    return [...byPeer.values()].sort((a, b) => b.lastActivityAt - a.lastActivityAt)
  }

  get incoming(): ContactView[] {
    return this.#contacts.filter((c) => c.status === 'incoming')
  }
  get outgoing(): ContactView[] {
    return this.#contacts.filter((c) => c.status === 'outgoing')
  }

  contact(peerId: number): ContactView | null {
    return this.#contacts.find((c) => c.user.id === peerId) ?? null
  }

  peer(peerId: number): UserView | null {
    return this.contact(peerId)?.user ?? this.#conversations.find((c) => c.peerId === peerId)?.peer ?? null
  }

  async load(): Promise<void> {
    const told = new Map<number, ConversationView>()
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

  #setUnread(counts: { total: number; conversations: { peerId: number; count: number }[] }): void {
    this.#unreadTotal = counts.total
    const seen = new Set<number>()
    for (const { peerId, count } of counts.conversations) {
      seen.add(peerId)
      if (this.#unread.get(peerId) !== count) this.#unread.set(peerId, count)
    }
    for (const peerId of [...this.#unread.keys()]) if (!seen.has(peerId)) this.#unread.delete(peerId)
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

/** The list with these rows in place of the ones for the same conversations, new ones added. */
function withRows(list: ConversationView[], rows: readonly ConversationView[]): ConversationView[] {
  if (rows.length === 0) return list
  const byPeer = new Map(rows.map((r) => [r.peerId, r]))
  const updated = list.map((c) => {
    const row = byPeer.get(c.peerId)
    if (!row) return c
    byPeer.delete(c.peerId)
    return row
  })
  return [...updated, ...byPeer.values()]
}
