/**
 * Fabricated local stores for the desktop benches: deterministic text (Zipf-distributed words,
 * as in real text), and a signed-in account whose database is filled through the real sync path
 * (applyEvents), so what the benches read is laid out exactly as a synced store.
 */
import { randomUUID } from 'node:crypto'
import type { FeedEvent, Message } from '@parley/shared'
import { accountFile, writeCurrentAccount } from '../../desktop/src/core/accounts'
import { applyEvents } from '../../desktop/src/core/db/apply'
import { LocalDb } from '../../desktop/src/core/db/local-db'
import { saveAccount } from '../../desktop/src/core/db/tables/account'
import { indexText } from '../../desktop/src/core/db/text-index'
import { silentLogger } from '../../desktop/src/core/logger'
import { loadStoreKey } from '../../desktop/src/core/store-key'

/** A deterministic generator, so every run measures the same store. */
export function rng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  're',
  'su',
  'ta',
  'ne',
  'vo',
  'pi',
  'da',
  'gu',
  'be',
  'zo',
  'li',
  'fa',
  'no',
]

/** Words with a Zipf distribution: a few very common, most rare. Draws from the `random` it is given. */
export class Corpus {
  /** By rank: `words[0]` is the most common. */
  readonly words: string[]
  readonly random: () => number
  readonly #cumulative: Float64Array
  readonly #sum: number

  constructor(random: () => number, vocabulary: number) {
    this.random = random
    this.words = Array.from({ length: vocabulary }, (_, rank) => {
      let n = rank + 1
      let word = ''
      while (n > 0) {
        word += SYLLABLES[n % SYLLABLES.length]
        n = Math.floor(n / SYLLABLES.length)
      }
      return word
    })
    this.#cumulative = new Float64Array(vocabulary)
    let sum = 0
    for (let r = 0; r < vocabulary; r++) {
      sum += 1 / (r + 1)
      this.#cumulative[r] = sum
    }
    this.#sum = sum
  }

  word(): string {
    const x = this.random() * this.#sum
    let lo = 0
    let hi = this.words.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.#cumulative[mid] as number) < x) lo = mid + 1
      else hi = mid
    }
    return this.words[lo] as string
  }

  /** 4 to 15 words. */
  sentence(): string {
    const length = 4 + Math.floor(this.random() * 12)
    return Array.from({ length }, () => this.word()).join(' ')
  }

  /**
   * A chat message as people write them: many short replies, mostly one sentence, some
   * paragraphs that wrap, some several lines, now and then a link.
   */
  chatText(): string {
    const kind = this.random()
    const said = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`
    const ends = () => ['.', '.', '.', '!', '?'][Math.floor(this.random() * 5)] as string
    if (kind < 0.25) {
      const length = 1 + Math.floor(this.random() * 3)
      return said(Array.from({ length }, () => this.word()).join(' '))
    }
    if (kind < 0.7) return `${said(this.sentence())}${ends()}`
    if (kind < 0.88) {
      const count = 2 + Math.floor(this.random() * 4)
      return Array.from({ length: count }, () => `${said(this.sentence())}${ends()}`).join(' ')
    }
    if (kind < 0.98) {
      const lines = 2 + Math.floor(this.random() * 5)
      return Array.from({ length: lines }, () => said(this.sentence())).join('\n')
    }
    return `${said(this.sentence())} https://example.org/${this.word()}/${this.word()}`
  }
}

export const BENCH_USER_ID = 1

export interface BenchPeer {
  id: number
  username: string
  firstName: string
  lastName: string
}

export interface SeedConversation {
  peer: BenchPeer
  messages: number
  /** How many of the newest messages from the peer are left unread (default none). */
  unread?: number
}

export interface SeededConversation extends SeedConversation {
  /** The local id of its newest message: its `article.message` carries it as data-local-id. */
  newestLocalId: number
}

export interface SeedOptions {
  dataDir: string
  /** Where the account's relay is; the core tries to connect there. */
  relayUrl: string
  token: string
  /** The most recent activity first: the first conversation is the one the sidebar lists on top. */
  conversations: SeedConversation[]
  corpus: Corpus
  now?: number
}

const EVENTS_PER_TRANSACTION = 5000
const DAY_MS = 86_400_000

/**
 * A signed-in account the core reopens at start: its database (as `accountFile` names it, filled
 * through applyEvents with accepted contacts, conversations and read markers, search index
 * complete) and the current-account pointer to it. Its relay need not exist.
 */
export async function seedSignedInStore(options: SeedOptions): Promise<SeededConversation[]> {
  const { corpus, relayUrl } = options
  const random = corpus.random
  const now = options.now ?? Date.now()
  const file = accountFile(options.dataDir, relayUrl, BENCH_USER_ID)
  // Encrypted with the data folder's key, as browser mode keeps it (no upgrade at the host's start).
  const { key } = await loadStoreKey(options.dataDir, undefined, silentLogger)
  const db = await LocalDb.open(file, { key })
  const createdAt = now - 400 * DAY_MS
  saveAccount(db, {
    user: {
      id: BENCH_USER_ID,
      username: 'bench',
      firstName: 'Bench',
      lastName: 'Mark',
      email: 'bench@example.org',
      createdAt,
    },
    relayUrl,
    token: options.token,
    expiresAt: now + 365 * DAY_MS,
  })

  let seq = 0
  let pending: FeedEvent[] = []
  const flush = () => {
    if (pending.length > 0) applyEvents(db, BENCH_USER_ID, pending, now, { receipts: false })
    pending = []
  }
  const push = (event: FeedEvent) => {
    pending.push(event)
    if (pending.length >= EVENTS_PER_TRANSACTION) flush()
  }

  for (const { peer } of options.conversations) {
    push({
      seq: ++seq,
      type: 'contact_added',
      data: {
        user: { ...peer, avatarImageId: null, createdAt },
        status: 'accepted',
        createdAt,
        updatedAt: createdAt,
        acceptedAt: createdAt,
      },
    })
  }

  const seeded: SeededConversation[] = []
  for (const [rank, conversation] of options.conversations.entries()) {
    const { peer, messages: count } = conversation
    // Gaps as in a chat: bursts a few seconds apart, pauses of minutes, nights and days.
    const times = new Float64Array(count)
    let at = 0
    for (let i = 0; i < count; i++) {
      const kind = random()
      if (kind < 0.7) at += 5_000 + random() * 115_000
      else if (kind < 0.95) at += 120_000 + random() * 3_480_000
      else at += 3 * 3_600_000 + random() * 17 * 3_600_000
      times[i] = at
    }
    // The newest message a few minutes ago, the next conversation a little earlier, and so on.
    const shift = now - 120_000 - rank * 2_700_000 - at
    let mine = random() < 0.5
    let lastMine = 0
    const fromPeer: number[] = []
    for (let i = 0; i < count; i++) {
      if (random() < 0.35) mine = !mine
      const id = ++seq
      const sentAt = Math.round((times[i] as number) + shift)
      const deleted = random() < 0.005
      const fate = random()
      const message: Message = {
        id,
        clientId: randomUUID(),
        senderId: mine ? BENCH_USER_ID : peer.id,
        recipientId: mine ? peer.id : BENCH_USER_ID,
        groupId: null,
        text: deleted ? null : corpus.chatText(),
        image: null,
        file: null,
        voice: null,
        replyToId: null,
        forwarded: false,
        createdAt: sentAt,
        editedAt: !deleted && fate < 0.02 ? sentAt + 30_000 : null,
        deletedAt: deleted ? sentAt + 60_000 : null,
        reactions:
          !deleted && fate > 0.97
            ? [{ emoji: fate > 0.99 ? '😂' : '👍', userIds: [mine ? peer.id : BENCH_USER_ID] }]
            : [],
      }
      push({ seq: id, type: 'message', data: message })
      if (mine) lastMine = id
      else fromPeer.push(id)
    }
    // Read up to the newest but `unread`; the peer has read (and so received) all of ours.
    const readUpTo = fromPeer[fromPeer.length - 1 - (conversation.unread ?? 0)] ?? 0
    if (readUpTo > 0)
      push({ seq: ++seq, type: 'read', data: { userId: BENCH_USER_ID, peerId: peer.id, upTo: readUpTo } })
    if (lastMine > 0)
      push({ seq: ++seq, type: 'read', data: { userId: peer.id, peerId: BENCH_USER_ID, upTo: lastMine } })
    flush()
    const newestLocalId = db
      .prepare('select max(local_id) from messages where conversation_id = ?')
      .pluck()
      .get(peer.id) as number
    seeded.push({ ...conversation, newestLocalId })
  }
  flush()
  while (indexText(db) > 0) {}
  await db.close()
  writeCurrentAccount(options.dataDir, { file, relayUrl })
  return seeded
}
