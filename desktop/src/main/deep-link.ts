import { type ConversationKey, dmKey, isConversationKey, messageIdOf } from '@parley/shared'

/**
 * The URL scheme the app registers with the OS: `parley://conversation/<key>` (`dm:<userId>`,
 * `group:<groupId>`), or `parley://conversation/<userId>` for a 1:1 conversation; and
 * `parley://join/<code>`, a group's invite link, which opens the join screen (its preview first:
 * nothing is joined without the person's click); and `parley://message/<id>`, one message (its
 * relay id), shown in its conversation.
 */
export const DEEP_LINK_SCHEME = 'parley'

export type DeepLink =
  | { kind: 'conversation'; conversation: ConversationKey }
  | { kind: 'join'; code: string }
  | { kind: 'message'; messageId: number }

const USER_ID = /^[1-9][0-9]{0,15}$/
/** A group invite code as the relay makes them (GroupInviteCode in the protocol). */
const INVITE_CODE = /^[A-Za-z0-9]{16,64}$/

/**
 * A `parley://` link as the OS hands it over, or null for anything else. Links come from any web
 * page or document, so this accepts exactly three shapes, `parley://conversation/<key or user id>`,
 * `parley://join/<code>` and `parley://message/<id>`, with an optional trailing slash (Windows adds
 * one), and nothing more (no query, fragment or credentials).
 */
export function parseDeepLink(raw: unknown): DeepLink | null {
  if (typeof raw !== 'string' || raw.length > 256) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (url.protocol !== `${DEEP_LINK_SCHEME}:`) return null
  if (url.username || url.password || url.port || url.search || url.hash) return null
  const id = url.pathname.replace(/^\//, '').replace(/\/$/, '')
  const host = url.hostname.toLowerCase()
  if (host === 'join') return INVITE_CODE.test(id) ? { kind: 'join', code: id } : null
  if (host === 'message') {
    const messageId = messageIdOf(`parley://message/${id}`)
    return messageId === null ? null : { kind: 'message', messageId }
  }
  if (host !== 'conversation') return null
  if (isConversationKey(id)) return { kind: 'conversation', conversation: id }
  if (!USER_ID.test(id)) return null
  const userId = Number(id)
  return Number.isSafeInteger(userId) ? { kind: 'conversation', conversation: dmKey(userId) } : null
}

/** What a deep link opens, in the running app (the shell's window, through the core's events). */
export interface DeepLinkTargets {
  openConversation(conversation: ConversationKey): void
  openJoin(code: string): void
  openMessage(messageId: number): void
}

/** Hands a link to what opens it. */
export function openDeepLink(link: DeepLink, targets: DeepLinkTargets): void {
  if (link.kind === 'join') targets.openJoin(link.code)
  else if (link.kind === 'message') targets.openMessage(link.messageId)
  else targets.openConversation(link.conversation)
}

/**
 * The deep link among a process's arguments (Windows and Linux pass the URL on the command line,
 * to the first launch and, through `second-instance`, to the running one). The last valid one wins.
 */
export function findDeepLink(argv: readonly string[]): DeepLink | null {
  let found: DeepLink | null = null
  for (const arg of argv) {
    if (!arg.toLowerCase().startsWith(`${DEEP_LINK_SCHEME}:`)) continue
    found = parseDeepLink(arg) ?? found
  }
  return found
}

/**
 * Holds a link until the renderer can act on it: at launch the link arrives before the window has
 * loaded, and an `app.openConversation` (`app.openJoin`, `app.openMessage`) event sent then would reach nobody.
 */
export class DeepLinkQueue {
  #pending: DeepLink | null = null
  #ready = false
  readonly #deliver: (link: DeepLink) => void

  constructor(deliver: (link: DeepLink) => void) {
    this.#deliver = deliver
  }

  open(link: DeepLink | null): void {
    if (!link) return
    if (this.#ready) this.#deliver(link)
    else this.#pending = link
  }

  /** The renderer is listening (it made its first bridge call since it loaded). */
  ready(): void {
    this.#ready = true
    const link = this.#pending
    this.#pending = null
    if (link) this.#deliver(link)
  }

  /** The renderer is loading again: hold links until it is back. */
  unready(): void {
    this.#ready = false
  }
}
