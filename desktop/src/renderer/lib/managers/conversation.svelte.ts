import type {
  BridgeEventPayload,
  ConversationKey,
  MessageHistoryView,
  MessagePage,
  MessageState,
  MessageView,
  ReceiptsView,
} from '@parley/shared'
import { dmPeer } from '@parley/shared/conversation'
import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import { saveFile, sendFile, sendVoice } from './files'
import type { OutgoingQueue } from './outgoing.svelte'

const PAGE = 100
/** While you keep typing, the others are told again this often (their core forgets after a while). */
const TYPING_REPEAT_MS = 3000

type Markers = Omit<BridgeEventPayload<'receipts.changed'>, 'conversation'>
const NO_MARKERS: Markers = { deliveredUpTo: 0, readUpTo: 0, ownReadUpTo: 0 }

/**
 * The open conversation: a window of its messages (oldest first) that grows by pages as you scroll
 * up, or down after jumping to an old message, and follows the core's events as deltas: the
 * messages that changed (messages.changed), and the receipt markers (receipts.changed) from which
 * the ticks follow, so a receipt rereads nothing.
 * What you do to its messages (send, edit, react, retry, discard, delete, read, type) goes through
 * here, so the list shows it at once and no component holds the bridge.
 */
export class ConversationState {
  readonly #bridge: Bridge
  readonly #outgoing: OutgoingQueue
  readonly key: ConversationKey
  /** The other person, for a 1:1 conversation; null for a group. */
  readonly peerId: number | null
  #messages = $state<MessageView[]>([])
  #nextBefore = $state<number | null>(null)
  /** Null when the window reaches the newest message. */
  #nextAfter = $state<number | null>(null)
  #loading = $state(false)
  #loaded = $state(false)
  /** The conversation's receipt markers as last told; only ever move forward. */
  #markers = $state.raw<Markers>(NO_MARKERS)
  /** Set while older messages are being put in front, so the list keeps its place. */
  prepending = $state(false)
  /** A message to scroll to and mark (from search); cleared after it was shown. */
  focusLocalId = $state<number | null>(null)
  /** The message the composer's next send answers (Reply in the message menu); null for none. */
  replyingTo = $state<MessageView | null>(null)
  /** Bumped when the list should scroll to the newest message (after you send, or jump). */
  scrollToLatestSignal = $state(0)
  #closed = false
  /** When the others were last told you are typing (0: not typing). */
  #typingSaidAt = 0
  readonly #stops: (() => void)[]

  constructor(bridge: Bridge, outgoing: OutgoingQueue, key: ConversationKey) {
    this.#bridge = bridge
    this.#outgoing = outgoing
    this.key = key
    this.peerId = dmPeer(key)
    this.#stops = [
      bridge.on('messages.changed', (event) => {
        if (event.conversation === this.key) void this.#apply(event)
      }),
      bridge.on('receipts.changed', (event) => {
        if (event.conversation === this.key) this.#moveMarkers(event)
      }),
      outgoing.onSent((message) => this.upsert(message)),
    ]
  }

  /**
   * The loaded window, oldest first, and after it (when it reaches the newest) what you sent that
   * the core has not confirmed yet: shown from the moment you pressed Enter.
   */
  readonly #shown = $derived.by(() => {
    const messages = this.#ticked
    if (this.#nextAfter !== null) return messages
    const pending = this.#outgoing.pendingFor(this.key)
    if (pending.length === 0) return messages
    // The core's event can come before its answer: then the message is here twice for a moment.
    const written = new Set(messages.map((m) => m.clientId))
    const waiting = pending.filter((m) => !written.has(m.clientId))
    return waiting.length === 0 ? messages : [...messages, ...waiting]
  })

  /**
   * The window with each message's state as far as the markers say: a message read from a page
   * or an event carries the state of that moment, and markers only move forward, so the later of
   * the two is right. Unchanged messages keep their object (the list redraws only the others).
   */
  readonly #ticked = $derived.by(() => {
    const markers = this.#markers
    if (markers === NO_MARKERS) return this.#messages
    return this.#messages.map((m) => {
      const state = stateBy(m, markers)
      return state === m.state ? m : { ...m, state }
    })
  })

  get messages() {
    return this.#shown
  }
  get hasOlder() {
    return this.#nextBefore !== null
  }
  get atLatest() {
    return this.#nextAfter === null
  }
  get loading() {
    return this.#loading
  }
  get loaded() {
    return this.#loaded
  }

  close(): void {
    this.#closed = true
    for (const stop of this.#stops) stop()
  }

  /** Opens at the newest messages, or around `at` (a message found by search). */
  async open(at?: Pick<MessageView, 'localId' | 'position'>): Promise<void> {
    this.#loading = true
    try {
      if (at) {
        const [older, newer] = await Promise.all([
          this.#page({ before: at.position + 1, limit: PAGE }),
          this.#page({ after: at.position, limit: PAGE }),
        ])
        this.#set(
          [...older.messages.reverse(), ...newer.messages.reverse()],
          older.nextBefore,
          newer.nextAfter,
        )
        this.focusLocalId = at.localId
      } else {
        const page = await this.#page({ limit: PAGE })
        this.#set(page.messages.reverse(), page.nextBefore, null)
      }
      this.#loaded = true
    } finally {
      this.#loading = false
      this.#afterLoad()
    }
  }

  async loadOlder(): Promise<void> {
    if (this.#loading || this.#reloading || this.#nextBefore === null) return
    this.#loading = true
    try {
      const page = await this.#page({ before: this.#nextBefore, limit: PAGE })
      if (this.#closed) return
      const known = new Set(this.#messages.map((m) => m.localId))
      const older = page.messages.reverse().filter((m) => !known.has(m.localId))
      this.prepending = true
      this.#messages = [...older, ...this.#messages]
      this.#nextBefore = page.nextBefore
    } finally {
      this.#loading = false
      this.#afterLoad()
    }
  }

  async loadNewer(): Promise<void> {
    if (this.#loading || this.#reloading || this.#nextAfter === null) return
    this.#loading = true
    try {
      const page = await this.#page({ after: this.#nextAfter, limit: PAGE })
      if (this.#closed) return
      const known = new Set(this.#messages.map((m) => m.localId))
      this.prepending = false
      this.#messages = [...this.#messages, ...page.messages.reverse().filter((m) => !known.has(m.localId))]
      this.#nextAfter = page.nextAfter
    } finally {
      this.#loading = false
      this.#afterLoad()
    }
  }

  /** Back to the newest messages (the jump-to-latest button). */
  async showLatest(): Promise<void> {
    if (this.#nextAfter !== null) await this.open()
    this.scrollToLatestSignal++
  }

  /** Puts a message you just wrote (or changed) in place without waiting for the event. */
  upsert(message: MessageView): void {
    if (message.conversation !== this.key) return
    this.#merge([message], [])
  }

  /**
   * Takes a message now: the queue shows it as pending before this returns and hands it to the
   * core in the order written (see OutgoingQueue).
   */
  send(content: { text?: string; image?: File }): void {
    const replyToId = this.replyingTo?.id ?? undefined
    this.replyingTo = null
    this.#outgoing.add(this.key, { ...content, ...(replyToId !== undefined && { replyToId }) })
  }

  /**
   * Shows a message (a reply's original) and marks it for a moment: where it is loaded already,
   * else the window is reread around it (as for a search hit).
   */
  async jumpTo(target: { localId: number; position: number }): Promise<void> {
    if (!this.#messages.some((m) => m.localId === target.localId)) await this.open(target)
    this.focusLocalId = target.localId
  }

  /**
   * Sends a file of any type: refused at once when larger than the relay takes (as it states it);
   * else handed to the app in pieces (kept there at once) and shown pending while the outbox uploads it.
   */
  async sendFile(file: File): Promise<void> {
    const replyToId = this.replyingTo?.id ?? undefined
    this.replyingTo = null
    this.upsert(await sendFile(this.#bridge, this.key, file, replyToId))
  }

  /**
   * Sends a stopped recording as a voice message (handed to the app at once, kept there, shown
   * pending while the outbox uploads it). The same clientId on a second try returns the same message.
   */
  async sendVoice(
    recording: { blob: Blob; type: string; durationMs: number; waveform: number[] },
    clientId: string,
  ): Promise<void> {
    const replyToId = this.replyingTo?.id ?? undefined
    const message = await sendVoice(this.#bridge, this.key, recording, clientId, replyToId)
    if (this.replyingTo?.id === replyToId) this.replyingTo = null
    this.upsert(message)
  }

  /** Downloads a message's file (Electron asks where to save it). */
  saveFile(message: MessageView): Promise<void> {
    return saveFile(this.#bridge, message)
  }

  /** Forwards a message to chats (each copy is shown in its chat when opened; the outbox sends it). */
  async forward(message: MessageView, to: ConversationKey[]): Promise<void> {
    const copies = await call(this.#bridge, 'messages.forward', { localId: message.localId, to })
    for (const copy of copies) this.upsert(copy)
  }

  /** Delete for me: gone from this device at once, and from your others once the relay has it. */
  async hide(message: MessageView): Promise<void> {
    if (this.replyingTo?.localId === message.localId) this.replyingTo = null
    await call(this.#bridge, 'messages.hide', { localId: message.localId })
    this.#merge([], [message.localId])
  }

  /** The core keeps the edit (its outbox sends it); the list shows it without waiting for the event. */
  async edit(message: MessageView, text: string): Promise<void> {
    this.upsert(await call(this.#bridge, 'messages.edit', { localId: message.localId, text }))
  }

  /** Adds your reaction, or takes it back; the core's event updates the list. */
  async react(message: MessageView, emoji: string): Promise<void> {
    await call(this.#bridge, 'messages.react', { localId: message.localId, emoji })
  }

  /** Tries a failed message again: the core's outbox once it has it, else the queue before it. */
  async retry(message: MessageView): Promise<void> {
    if (handedOver(message)) await call(this.#bridge, 'messages.retry', { localId: message.localId })
    else this.#outgoing.retry(message.clientId)
  }

  /** Gives up on a failed message. */
  async discard(message: MessageView): Promise<void> {
    if (handedOver(message)) await call(this.#bridge, 'messages.discard', { localId: message.localId })
    else this.#outgoing.discard(message.clientId)
  }

  /** Deletes your message for everyone (or cancels a picture still uploading). */
  async delete(message: MessageView): Promise<void> {
    await call(this.#bridge, 'messages.delete', { localId: message.localId })
  }

  /** The newest messages were seen. */
  markRead(): void {
    void this.#bridge.invoke('messages.markRead', { conversation: this.key })
  }

  /** Who received and read a message, and when (see `messages.receipts`). */
  receipts(message: { localId: number }): Promise<ReceiptsView> {
    return call(this.#bridge, 'messages.receipts', { localId: message.localId })
  }

  history(message: { localId: number }): Promise<MessageHistoryView> {
    return call(this.#bridge, 'messages.history', { localId: message.localId })
  }

  /**
   * Whether the box holds text: the peer is told you are typing (again every few seconds while
   * you go on), and told once when you stop.
   */
  typing(hasText: boolean): void {
    if (hasText) {
      if (Date.now() - this.#typingSaidAt <= TYPING_REPEAT_MS) return
      this.#typingSaidAt = Date.now()
      void this.#bridge.invoke('typing.set', { conversation: this.key, typing: true })
    } else if (this.#typingSaidAt !== 0) {
      this.#typingSaidAt = 0
      void this.#bridge.invoke('typing.set', { conversation: this.key, typing: false })
    }
  }

  #reloading: Promise<void> | null = null
  #reloadAgain = false

  async #apply(event: BridgeEventPayload<'messages.changed'>): Promise<void> {
    if (event.reload) {
      // Reloads never overlap, nor run while a page loads: one more runs after the current one
      // (or after the page) if asked meanwhile.
      if (this.#reloading || this.#loading) {
        this.#reloadAgain = true
        return
      }
      this.#reloading = this.#reload().finally(() => {
        this.#reloading = null
        if (this.#reloadAgain) {
          this.#reloadAgain = false
          void this.#apply(event)
        }
      })
      return
    }
    this.#merge(event.messages, event.removedLocalIds)
    // A reload in flight read the store before this change: read again once it is done.
    if (this.#reloading) this.#reloadAgain = true
  }

  /** After a page load: the reload it held back. */
  #afterLoad(): void {
    if (this.#reloadAgain && !this.#reloading && !this.#closed) {
      this.#reloadAgain = false
      void this.#apply({ conversation: this.key, messages: [], removedLocalIds: [], reload: true })
    }
  }

  #moveMarkers(event: Markers): void {
    const now = this.#markers
    const next = {
      deliveredUpTo: Math.max(now.deliveredUpTo, event.deliveredUpTo),
      readUpTo: Math.max(now.readUpTo, event.readUpTo),
      ownReadUpTo: Math.max(now.ownReadUpTo, event.ownReadUpTo),
    }
    const moved =
      next.deliveredUpTo !== now.deliveredUpTo ||
      next.readUpTo !== now.readUpTo ||
      next.ownReadUpTo !== now.ownReadUpTo
    if (moved) this.#markers = next
  }

  #merge(changed: readonly MessageView[], removed: readonly number[]): void {
    const gone = new Set(removed)
    const byId = new Map(changed.map((m) => [m.localId, m]))
    let same = true
    let list = this.#messages.filter((m) => !gone.has(m.localId))
    if (list.length !== this.#messages.length) same = false
    list = list.map((m) => {
      const update = byId.get(m.localId)
      if (!update) return m
      byId.delete(m.localId)
      // The same look told twice (the core's answer and its event): the list keeps what it has.
      if (sameLook(m, update)) return m
      same = false
      return update
    })
    const first = list[0]?.position ?? 0
    for (const m of byId.values()) {
      // New messages belong in the window only where it covers them: past its end only when it
      // reaches the newest, before its start never (paging will bring them).
      if (m.position < first && this.#nextBefore !== null) continue
      if (this.#nextAfter !== null && m.position > (list.at(-1)?.position ?? 0)) continue
      list.push(m)
      same = false
    }
    if (same) return
    // A change can move a message (one waiting to be sent takes its place once the relay has it).
    if (changed.length > 0) list.sort((a, b) => a.position - b.position)
    this.prepending = false
    this.#messages = list
  }

  /**
   * Reread the window (many messages changed at once, e.g. receipts moved): as many messages as
   * it holds, back from its newest end, so the list keeps its length and its place. (Positions are
   * not stable enough to reread by range: a message waiting to be sent sorts last until the relay
   * has it.)
   */
  async #reload(): Promise<void> {
    const newest = this.#messages.at(-1)
    if (!newest) return this.open()
    const want = Math.max(this.#messages.length, PAGE)
    const atLatest = this.#nextAfter === null
    const messages: MessageView[] = []
    let before: number | undefined = atLatest ? undefined : newest.position + 1
    let nextBefore: number | null = null
    let nextAfter: number | null = this.#nextAfter
    while (messages.length < want) {
      const limit = Math.min(200, want - messages.length)
      const page = await this.#page({ ...(before !== undefined && { before }), limit })
      if (messages.length === 0 && !atLatest) nextAfter = page.nextAfter
      messages.push(...page.messages)
      nextBefore = page.nextBefore
      if (page.nextBefore === null) break
      before = page.nextBefore
    }
    if (this.#closed) return
    this.prepending = false
    this.#messages = messages.reverse()
    this.#nextBefore = nextBefore
    this.#nextAfter = nextAfter
  }

  #set(messages: MessageView[], nextBefore: number | null, nextAfter: number | null): void {
    if (this.#closed) return
    this.prepending = false
    this.#messages = messages
    this.#nextBefore = nextBefore
    this.#nextAfter = nextAfter
  }

  #page(params: { before?: number; after?: number; limit: number }): Promise<MessagePage> {
    return call(this.#bridge, 'messages.page', { conversation: this.key, ...params })
  }
}

const RANK: Record<MessageState, number> = { pending: 0, failed: 0, sent: 1, delivered: 2, read: 3 }

/** A message's state as the conversation's markers have it, never behind the state it carries. */
function stateBy(m: MessageView, markers: Markers): MessageState {
  if (m.id === null || RANK[m.state] === 0) return m.state
  const marked: MessageState = m.mine
    ? m.id <= markers.readUpTo
      ? 'read'
      : m.id <= markers.deliveredUpTo
        ? 'delivered'
        : 'sent'
    : m.id <= markers.ownReadUpTo
      ? 'read'
      : 'delivered'
  return RANK[marked] > RANK[m.state] ? marked : m.state
}

function sameLook(a: MessageView, b: MessageView): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The core has it (the queue's own copies carry negative local ids until then). */
export function handedOver(message: MessageView): boolean {
  return message.localId > 0
}
