import { EventEmitter } from 'node:events'
import {
  type BridgeError,
  type ConnectionInfo,
  type ConnectionState,
  type ConversationKey,
  type FeedEvent,
  type GroupEvent,
  groupKey,
  MAX_GROUP_EVENTS_PAGE,
  MAX_SYNC_PAGE,
} from '@parley/shared'
import {
  type ApplyOptions,
  type ApplySummary,
  applyEvents,
  applyGroupEvents,
  emptySummary,
  queueDeliveredReceipts,
} from '../db/apply'
import type { LocalDb } from '../db/local-db'
import { applySnapshot } from '../db/snapshot'
import { INDEX_CHUNK, indexText, textBacklog } from '../db/text-index'
import { backoff, type Logger, type Timing } from '../logger'
import type { RelayClient } from '../net/relay-client'

type ContactLister = Pick<RelayClient, 'call'>

import { clearPresence, setPresence } from '../db/tables/contacts'
import { moveMarkers } from '../db/tables/conversations'
import { groupRow, saveGroup } from '../db/tables/groups'
import { cursorOf } from '../db/tables/sync-state'
import type { RelayLink, TypingEvent } from '../net/relay-socket'
import { Backfill } from './backfill'

/**
 * A catch-up writes up to this many events per transaction: each commit rewrites the index pages
 * it touched (one set per busy conversation), so five pages in one commit are a third faster.
 */
const EVENTS_PER_TRANSACTION = 5000

export interface SyncEngineEvents {
  state: [info: ConnectionInfo]
  applied: [summary: ApplySummary]
  /** Caught up and live: the outbox may send. */
  online: []
  presence: [userIds: number[]]
  typing: [event: TypingEvent]
  /** A group's "everyone" receipt markers moved. */
  groupReceipts: [conversation: ConversationKey]
  unauthorized: []
}

export interface SyncEngineDeps {
  db: LocalDb
  me: number
  socket: RelayLink
  relay: ContactLister
  clock: () => number
  timing: Timing
  logger: Logger
}

/**
 * Keeps the local store in step with the account's feed. On every (re)connect it pulls the feed
 * after the stored cursor, page by page, while holding live events; then it applies live events
 * whose seq is cursor + 1, skips those at or below the cursor, and catches up again on a gap.
 */
export class SyncEngine extends EventEmitter<SyncEngineEvents> {
  readonly #deps: SyncEngineDeps
  #state: ConnectionState = 'offline'
  #since: number
  #lastError: BridgeError | null = null
  #started = false
  #catchingUp = false
  #again = false
  #failures = 0
  #retryTimer: NodeJS.Timeout | undefined
  /** Live events that arrived during a catch-up, by seq. */
  readonly #held = new Map<number, FeedEvent>()
  #catchUpDone: Promise<void> = Promise.resolve()
  #indexing: Promise<void> | undefined
  /** Groups whose log is being read (and whether to read it again after). */
  readonly #groupCatchUps = new Map<number, { again: boolean; done: Promise<void> }>()
  readonly #backfill: Backfill

  constructor(deps: SyncEngineDeps) {
    super()
    this.#deps = deps
    this.#since = this.#deps.clock()
    this.#backfill = new Backfill({
      db: deps.db,
      me: deps.me,
      relay: deps.relay,
      timing: deps.timing,
      logger: deps.logger,
    })
    this.#backfill.on('progress', () => this.#emitState())
    this.#backfill.on('filled', (conversation) => {
      const summary = emptySummary(cursorOf(this.#deps.db))
      summary.messages.set(conversation, null)
      this.emit('applied', summary)
    })
    this.#listen()
  }

  get info(): ConnectionInfo {
    const backfill = this.#started ? this.#backfill.progress : null
    return {
      state: this.#state,
      since: this.#since,
      lastError: this.#lastError,
      ...(backfill && { backfill }),
    }
  }

  /** Resolves once the background reading of older history is complete (or stopped). */
  backfilled(): Promise<void> {
    return this.#backfill.start()
  }

  get online(): boolean {
    return this.#state === 'online'
  }

  start(): void {
    if (this.#started) return
    this.#started = true
    this.#setState('connecting')
    this.#deps.socket.open()
  }

  async stop(): Promise<void> {
    this.#started = false
    clearTimeout(this.#retryTimer)
    this.#deps.socket.close()
    await this.#backfill.stop()
    await this.#catchUpDone.catch(() => undefined)
    await this.#indexing
    this.#held.clear()
    this.#forgetPresence()
    this.#setState('offline')
  }

  #listen(): void {
    const socket = this.#deps.socket
    socket.on('connected', () => {
      this.#failures = 0
      this.#held.clear()
      this.#catchUp()
      void this.#refreshPresence()
    })
    socket.on('disconnected', () => {
      this.#held.clear()
      this.#forgetPresence()
      if (this.#started) this.#setState('connecting')
    })
    socket.on('connectFailed', (error) => {
      this.#lastError = error
      this.#emitState()
    })
    socket.on('unauthorized', () => {
      this.#lastError = { code: 'unauthorized', message: 'The relay no longer accepts this session' }
      this.emit('unauthorized')
    })
    socket.on('feed', (event) => this.#onLive(event))
    socket.on('typing', (event) => this.emit('typing', event))
    socket.on('presence', (event) => {
      const presence = event.status === 'offline' && event.lastSeen === null ? null : event
      if (
        setPresence(
          this.#deps.db,
          event.userId,
          presence && { status: presence.status, lastSeen: presence.lastSeen },
        )
      ) {
        this.emit('presence', [event.userId])
      }
    })
    socket.on('groupEvent', (event) => this.#onGroupLive(event))
    socket.on('groupReceipts', (event) => {
      const key = groupKey(event.groupId)
      if (!groupRow(this.#deps.db, event.groupId)) return
      this.#deps.db.transaction(() => {
        moveMarkers(this.#deps.db, key, 'peer', event.deliveredUpTo, false)
        moveMarkers(this.#deps.db, key, 'peer', event.readUpTo, true)
      })
      this.emit('groupReceipts', key)
    })
    socket.on('invalid', (what, message) =>
      this.#deps.logger.warn('dropped something the relay sent', { what, message }),
    )
  }

  #onLive(event: FeedEvent): void {
    if (this.#catchingUp) {
      this.#held.set(event.seq, event)
      return
    }
    const cursor = cursorOf(this.#deps.db)
    if (event.seq <= cursor) return
    if (event.seq === cursor + 1) {
      this.#apply([event])
      return
    }
    // A gap: something was missed (it happens across a reconnect). The feed has it.
    this.#held.set(event.seq, event)
    this.#catchUp()
  }

  #catchUp(): void {
    if (this.#catchingUp) {
      this.#again = true
      return
    }
    this.#catchingUp = true
    this.#catchUpDone = this.#runCatchUp().finally(() => {
      this.#catchingUp = false
      // Asked for again while a failed round was ending: the request must not be lost.
      if (this.#again && this.#deps.socket.connected && this.#started) {
        this.#again = false
        this.#catchUp()
      }
    })
  }

  async #runCatchUp(): Promise<void> {
    this.#setState('syncing')
    try {
      do {
        this.#again = false
        const received = new Map<ConversationKey, number>()
        let batch: FeedEvent[] = []
        // A new device starts from a snapshot, not from the feed's first event.
        if (cursorOf(this.#deps.db) === 0) await this.#takeSnapshot(false)
        let after = cursorOf(this.#deps.db)
        let resnapshotted = false
        for (;;) {
          const page = await this.#deps.socket.request(
            'sync',
            { after, limit: MAX_SYNC_PAGE },
            this.#deps.timing.syncTimeoutMs,
          )
          if (!page.ok && page.error.code === 'cursor_expired' && !resnapshotted) {
            // Away longer than the relay keeps the feed: a snapshot, keeping what this device has.
            resnapshotted = true
            batch = []
            await this.#takeSnapshot(true)
            after = cursorOf(this.#deps.db)
            continue
          }
          if (!page.ok) throw new CatchUpError(page.error)
          batch = batch.concat(page.value.events)
          after = page.value.cursor
          if (batch.length >= EVENTS_PER_TRANSACTION || !page.value.hasMore) {
            const summary = this.#apply(batch, { receipts: false, advanceTo: after })
            for (const [conversation, upTo] of summary?.received ?? []) {
              received.set(conversation, Math.max(received.get(conversation) ?? 0, upTo))
            }
            batch = []
            if (textBacklog(this.#deps.db) >= INDEX_CHUNK) indexText(this.#deps.db)
          }
          if (!page.value.hasMore) break
        }
        // Once per catch-up rather than per page: only the highest message of each conversation counts.
        this.#deps.db.transaction(() => queueDeliveredReceipts(this.#deps.db, received, this.#deps.clock()))
        this.#applyHeld()
      } while (this.#again && this.#deps.socket.connected)
      if (!this.#deps.socket.connected) return
      this.#lastError = null
      this.#failures = 0
      this.#setState('online')
      this.emit('online')
      void this.#syncGroups()
      void this.#backfill.start()
      this.#indexing ??= this.#indexBacklog().finally(() => {
        this.#indexing = undefined
      })
    } catch (error) {
      const reason: BridgeError =
        error instanceof CatchUpError ? error.error : { code: 'internal', message: String(error) }
      this.#lastError = reason
      this.#deps.logger.warn('catch-up failed', { code: reason.code, message: reason.message })
      this.#emitState()
      // Still connected (a timeout, a busy relay): try again later. Otherwise the reconnect will.
      if (this.#deps.socket.connected && this.#started) {
        this.#failures += 1
        clearTimeout(this.#retryTimer)
        this.#retryTimer = setTimeout(
          () => this.#catchUp(),
          backoff(this.#failures, this.#deps.timing.retryBaseMs, this.#deps.timing.retryMaxMs),
        )
      }
    }
  }

  /** Reads GET /sync/snapshot and applies it in one transaction; the cursor moves to its cursor. */
  async #takeSnapshot(replacing: boolean): Promise<void> {
    const result = await this.#deps.relay.call('syncSnapshot', { query: {} })
    if (!result.ok) throw new CatchUpError(result.error)
    if (!this.#started) throw new CatchUpError({ code: 'offline', message: 'Stopped' })
    const summary = applySnapshot(this.#deps.db, this.#deps.me, result.value, this.#deps.clock(), {
      replacing,
    })
    this.#deps.logger.info('started from a snapshot', {
      cursor: result.value.cursor,
      conversations: result.value.conversations.length,
      groups: result.value.groups.length,
      replacing,
    })
    this.emit('applied', summary)
  }

  /** Indexes what a catch-up left for search, a chunk per event-loop turn so the app stays responsive. */
  async #indexBacklog(): Promise<void> {
    while (this.#started && indexText(this.#deps.db) > 0) {
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Applies held live events that continue the cursor; a gap left among them means another round. */
  #applyHeld(): void {
    const seqs = [...this.#held.keys()].sort((a, b) => a - b)
    for (const seq of seqs) {
      const cursor = cursorOf(this.#deps.db)
      const event = this.#held.get(seq)!
      if (seq <= cursor) {
        this.#held.delete(seq)
      } else if (seq === cursor + 1) {
        this.#held.delete(seq)
        this.#apply([event])
      } else {
        this.#again = true
        return
      }
    }
  }

  #apply(events: readonly FeedEvent[], options: ApplyOptions = {}): ApplySummary | undefined {
    if (events.length === 0 && options.advanceTo === undefined) return undefined
    const summary = applyEvents(this.#deps.db, this.#deps.me, events, this.#deps.clock(), options)
    if (summary.applied > 0) this.emit('applied', summary)
    for (const groupId of summary.groupsBehind) this.catchUpGroup(groupId)
    return summary
  }

  /** A live entry of a group's log: applied when it continues the group's cursor, else a catch-up. */
  #onGroupLive(event: GroupEvent): void {
    const running = this.#groupCatchUps.get(event.groupId)
    if (running) {
      running.again = true
      return
    }
    const group = groupRow(this.#deps.db, event.groupId)
    // Not known yet: the feed's group_added is on its way, and reads the log itself.
    if (!group || group.left_at !== null) return
    if (event.seq <= group.log_cursor) return
    if (event.seq === group.log_cursor + 1) {
      this.#applyGroup(event.groupId, [event])
      return
    }
    this.catchUpGroup(event.groupId)
  }

  #applyGroup(groupId: number, events: readonly GroupEvent[], receipts = true): ApplySummary {
    const summary = applyGroupEvents(this.#deps.db, this.#deps.me, groupId, events, this.#deps.clock(), {
      receipts,
    })
    if (summary.applied > 0) this.emit('applied', summary)
    return summary
  }

  /** Compares every group's head with its cursor (after each catch-up of the feed) and reads what is missing. */
  async #syncGroups(): Promise<void> {
    const result = await this.#deps.relay.call('listGroups')
    if (!result.ok || !this.#started) return
    for (const g of result.value.groups) {
      const known = groupRow(this.#deps.db, g.id)
      if (!known) {
        // A group this store never heard of (joined before this build could keep groups).
        saveGroup(this.#deps.db, this.#deps.me, g, 0)
        this.catchUpGroup(g.id)
      } else if (known.left_at === null && g.headSeq > known.log_cursor) {
        this.catchUpGroup(g.id)
      }
    }
  }

  /** Reads a group's log after its cursor, page by page, until its head (one reader per group). */
  catchUpGroup(groupId: number): Promise<void> {
    const running = this.#groupCatchUps.get(groupId)
    if (running) {
      running.again = true
      return running.done
    }
    const state = { again: false, done: Promise.resolve() }
    state.done = (async () => {
      try {
        do {
          state.again = false
          const received = new Map<ConversationKey, number>()
          for (;;) {
            const group = groupRow(this.#deps.db, groupId)
            if (!group || group.left_at !== null || !this.#started) return
            const page = await this.#deps.relay.call('groupEvents', {
              params: { id: groupId },
              query: { after: group.log_cursor, limit: MAX_GROUP_EVENTS_PAGE },
            })
            if (!page.ok) {
              this.#deps.logger.warn('group catch-up failed', { groupId, code: page.error.code })
              return
            }
            if (!this.#started) return
            const summary = this.#applyGroup(groupId, page.value.events, false)
            for (const [c, upTo] of summary.received) received.set(c, Math.max(received.get(c) ?? 0, upTo))
            if (!page.value.hasMore || page.value.events.length === 0) break
          }
          this.#deps.db.transaction(() => queueDeliveredReceipts(this.#deps.db, received, this.#deps.clock()))
          if (received.size > 0) this.emit('online')
        } while (state.again)
      } finally {
        this.#groupCatchUps.delete(groupId)
      }
    })()
    this.#groupCatchUps.set(groupId, state)
    return state.done
  }

  /** Presence is not in the feed: after a connect, read it from the contact list. */
  async #refreshPresence(): Promise<void> {
    const result = await this.#deps.relay.call('listContacts')
    // Stopped meanwhile: the store may already be closed.
    if (!result.ok || !this.#started) return
    const changed: number[] = []
    for (const contact of result.value.contacts) {
      if (setPresence(this.#deps.db, contact.user.id, contact.presence)) changed.push(contact.user.id)
    }
    if (changed.length > 0) this.emit('presence', changed)
  }

  #forgetPresence(): void {
    const changed = clearPresence(this.#deps.db)
    if (changed.length > 0) this.emit('presence', changed)
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return
    this.#state = state
    this.#since = this.#deps.clock()
    this.#emitState()
  }

  #emitState(): void {
    this.emit('state', this.info)
  }
}

class CatchUpError extends Error {
  constructor(readonly error: BridgeError) {
    super(error.message)
  }
}
