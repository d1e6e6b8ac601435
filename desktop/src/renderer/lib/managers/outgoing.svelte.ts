import type { BridgeError, BridgeResult, ConversationKey, MessageView } from '@parley/shared'
import { dmKey, dmPeer, isConversationKey } from '@parley/shared/conversation'
import type { Bridge } from '../bridge'
import { toBase64 } from '../pictures'
import type { AppState } from './app.svelte'

/** A message handed to the queue that the core has not confirmed yet. */
interface Outgoing {
  clientId: string
  /** Which signed-in account wrote it (`relayUrl#userId`): the queue outlives a sign-out. */
  account: string
  conversation: ConversationKey
  text: string | null
  /** Not kept across a reload (a File cannot be stored); a picture waits here only for moments. */
  image: File | null
  /** The relay id of the message it answers. */
  replyToId?: number
  createdAt: number
  /** Negative, so it never meets a local id of the core's. */
  localId: number
  failure: BridgeError | null
}

type Stored = Pick<Outgoing, 'clientId' | 'account' | 'conversation' | 'text' | 'createdAt' | 'replyToId'>

const STORAGE_KEY = 'parley.outgoing'
/** How soon a send the app did not answer is handed over again when no reconnect says so first. */
const RESEND_MS = 2000

/**
 * What you sent, from the moment you press Enter until the core has it. The composer hands a
 * message over synchronously (the box is free for the next one at once); this queue passes them
 * to the core in the order written, without waiting for one answer before sending the next, and
 * shows each as pending meanwhile. Each carries a clientId made here, so handing it over again
 * after the link to the app dropped (browser mode) returns the message the first call wrote
 * instead of a second one. Texts are also kept in the page's storage until the core confirms
 * them: a reload while the app is unreachable does not lose them.
 */
export class OutgoingQueue {
  readonly #bridge: Bridge
  readonly #app: AppState
  readonly #storage: Storage | null
  #items = $state<Outgoing[]>([])
  readonly #inFlight = new Set<string>()
  readonly #sentListeners = new Set<(message: MessageView) => void>()
  /** Confirmed or discarded here: dropped from the page's storage even if another tab listed them. */
  readonly #done = new Set<string>()
  #pumping = false
  /** The link to the app dropped: nothing more is handed over until it is back (or a while passed). */
  #paused = false
  #nextLocalId = -1
  #resendTimer: ReturnType<typeof setTimeout> | undefined

  constructor(bridge: Bridge, app: AppState, storage: Storage | null) {
    this.#bridge = bridge
    this.#app = app
    this.#storage = storage
    this.#items = this.#restore()
    bridge.onReconnect(() => this.#resume())
    // A sign-in (or the session read at start) lets the signed-in account's waiting messages go.
    $effect.root(() => {
      $effect(() => {
        if (this.#app.session) void this.#pump()
      })
    })
  }

  /**
   * Takes a message for a conversation now, and returns its clientId. Order is kept per queue: the core
   * receives messages in the order they were added here.
   */
  add(conversation: ConversationKey, content: { text?: string; image?: File; replyToId?: number }): string {
    const account = this.#accountKey()
    if (!account) throw new Error('Sign in first')
    const item: Outgoing = {
      clientId: crypto.randomUUID(),
      account,
      conversation,
      text: content.text ?? null,
      image: content.image ?? null,
      ...(content.replyToId !== undefined && { replyToId: content.replyToId }),
      createdAt: Date.now(),
      localId: this.#nextLocalId--,
      failure: null,
    }
    this.#items = [...this.#items, item]
    this.#save()
    void this.#pump()
    return item.clientId
  }

  /** The messages to a conversation still on their way to the core, as the message list shows them. */
  pendingFor(conversation: ConversationKey): MessageView[] {
    const account = this.#accountKey()
    const me = this.#app.me?.id
    if (!account || me === undefined) return []
    return this.#items
      .filter((i) => i.account === account && i.conversation === conversation)
      .map((i) => view(i, me))
  }

  /** Called with the core's view of each message once it has it. */
  onSent(listener: (message: MessageView) => void): () => void {
    this.#sentListeners.add(listener)
    return () => this.#sentListeners.delete(listener)
  }

  /** Hands a message the core refused over once more (only offered when that can work). */
  retry(clientId: string): void {
    this.#items = this.#items.map((i) => (i.clientId === clientId ? { ...i, failure: null } : i))
    void this.#pump()
  }

  discard(clientId: string): void {
    this.#forget(clientId)
  }

  #forget(clientId: string): void {
    this.#done.add(clientId)
    this.#items = this.#items.filter((i) => i.clientId !== clientId)
    this.#save()
  }

  #resume(): void {
    clearTimeout(this.#resendTimer)
    this.#paused = false
    void this.#pump()
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (!this.#paused) {
        const account = this.#accountKey()
        const next = this.#items.find(
          (i) => i.account === account && i.failure === null && !this.#inFlight.has(i.clientId),
        )
        if (!next) return
        this.#inFlight.add(next.clientId)
        // Invoked one after another in the order written; the answers are awaited apart, so a slow
        // link carries many messages at once and the core still writes them in order.
        const { answer } = await this.#handOver(next)
        void answer.then((result) => this.#settle(next, result))
      }
    } finally {
      this.#pumping = false
    }
  }

  /** Invokes the core once the call is ready; the answer comes apart (wrapped, so it is not awaited here). */
  async #handOver(item: Outgoing): Promise<{ answer: Promise<BridgeResult<'messages.send'>> }> {
    const text = item.text ?? undefined
    if (item.image) {
      const dataBase64 = await toBase64(item.image)
      const answer = this.#bridge.invoke('messages.sendImage', {
        conversation: item.conversation,
        dataBase64,
        clientId: item.clientId,
        ...(text !== undefined && { text }),
        ...(item.replyToId !== undefined && { replyToId: item.replyToId }),
      })
      return { answer }
    }
    const answer = this.#bridge.invoke('messages.send', {
      conversation: item.conversation,
      text: text ?? '',
      clientId: item.clientId,
      ...(item.replyToId !== undefined && { replyToId: item.replyToId }),
    })
    return { answer }
  }

  #settle(item: Outgoing, result: BridgeResult<'messages.send'>): void {
    this.#inFlight.delete(item.clientId)
    if (result.ok) {
      for (const listener of this.#sentListeners) listener(result.value)
      this.#forget(item.clientId)
      return
    }
    if (result.error.code === 'app_unreachable') {
      // It may or may not have reached the core; its clientId makes handing it over again safe.
      // Every later one waits too, so none overtakes it on the next link.
      this.#paused = true
      clearTimeout(this.#resendTimer)
      this.#resendTimer = setTimeout(() => this.#resume(), RESEND_MS)
      return
    }
    this.#items = this.#items.map((i) => (i.clientId === item.clientId ? { ...i, failure: result.error } : i))
  }

  #accountKey(): string | null {
    const session = this.#app.session
    return session ? `${session.relayUrl}#${session.user.id}` : null
  }

  /** Writes this page's texts to storage, keeping what another tab of the same app listed there. */
  #save(): void {
    const mine: Stored[] = this.#items
      .filter((i) => i.text !== null && i.image === null)
      .map(({ clientId, account, conversation, text, createdAt, replyToId }) => ({
        clientId,
        account,
        conversation,
        text,
        createdAt,
        ...(replyToId !== undefined && { replyToId }),
      }))
    const listed = new Set(mine.map((s) => s.clientId))
    const others = this.#read().filter((s) => !listed.has(s.clientId) && !this.#done.has(s.clientId))
    const stored = [...others, ...mine]
    try {
      if (stored.length === 0) this.#storage?.removeItem(STORAGE_KEY)
      else this.#storage?.setItem(STORAGE_KEY, JSON.stringify(stored))
    } catch {
      // Storage full or disabled: the queue still holds them for this page's life.
    }
  }

  #restore(): Outgoing[] {
    return this.#read().map((s) => ({ ...s, image: null, localId: this.#nextLocalId--, failure: null }))
  }

  #read(): Stored[] {
    try {
      const stored: unknown = JSON.parse(this.#storage?.getItem(STORAGE_KEY) ?? '[]')
      return Array.isArray(stored) ? stored.map(upgraded).filter(isStored) : []
    } catch {
      return []
    }
  }
}

/** An entry an earlier build stored, by the peer's id: its 1:1 conversation. */
function upgraded(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  const { peerId, ...rest } = value as Record<string, unknown>
  return typeof peerId === 'number' && !('conversation' in rest)
    ? { ...rest, conversation: dmKey(peerId) }
    : value
}

function isStored(value: unknown): value is Stored {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.clientId === 'string' &&
    typeof v.account === 'string' &&
    isConversationKey(v.conversation) &&
    typeof v.text === 'string' &&
    typeof v.createdAt === 'number' &&
    (v.replyToId === undefined || (typeof v.replyToId === 'number' && Number.isSafeInteger(v.replyToId)))
  )
}

/** How a message not yet in the core shows in the list: pending (or failed), after every other. */
function view(item: Outgoing, me: number): MessageView {
  return {
    kind: 'text',
    localId: item.localId,
    id: null,
    clientId: item.clientId,
    senderId: me,
    recipientId: dmPeer(item.conversation),
    conversation: item.conversation,
    mine: true,
    // A picture shows once the core has it (moments later); until then its caption, or what it is.
    text: item.image ? (item.text ?? 'Picture') : item.text,
    image: null,
    createdAt: item.createdAt,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    state: item.failure ? 'failed' : 'pending',
    failure: item.failure,
    changePending: false,
    position: Number.MAX_SAFE_INTEGER,
    sender: { userId: me, displayName: 'You', avatarImageId: null },
    event: null,
    mentionsMe: false,
    replyTo: null,
    forwarded: false,
    file: null,
    voice: null,
  }
}
