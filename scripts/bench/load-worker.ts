/**
 * A load generator process: holds idle sockets, and runs sender/receiver pairs at an open-loop
 * rate. A sender and its receiver live in the same process, so send→receive latency is measured
 * on one clock. Everything is bounded by count and by time.
 */
import { randomUUID } from 'node:crypto'
import type {
  Ack,
  ClientToServerEvents,
  FeedEventOf,
  GroupEvent,
  ServerToClientEvents,
  SyncResponse,
} from '@parley/shared'
import { io, type Socket } from 'socket.io-client'
import { notify, serve } from './ipc'

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>

/** Under the 20,000 open files a process may have here. */
const MAX_SOCKETS = 19_000
const ACK_TIMEOUT_MS = 30_000

const now = () => performance.timeOrigin + performance.now()

interface ConnectResult {
  connected: number
  failed: number
  errors: Record<string, number>
  ms: number
  /** Handshake times of the sockets that connected, in ms. */
  latencies: Float64Array
}

interface Pair {
  sender: ClientSocket
  receiver: ClientSocket
  receiverId: number
  receipts: ReceiptLane
}

/** Whether receivers send delivery receipts (`run`'s `receipts`). */
let receiptsOn = true

interface Pending {
  sentAt: number
  acked: boolean
  received: boolean
}

interface Run {
  pending: Map<string, Pending>
  received: number
  duplicates: number
  recvLatencies: number[]
  lastRecvAt: number
  receipts: ReceiptStats
}

/** Delivery receipts sent back, acknowledged, and refused or timed out (by error); ack times. */
interface ReceiptStats {
  sent: number
  ok: number
  errors: Record<string, number>
  latencies: number[]
}

const noReceipts = (): ReceiptStats => ({ sent: 0, ok: 0, errors: {}, latencies: [] })

function receiptSummary(stats: ReceiptStats) {
  return {
    sent: stats.sent,
    ok: stats.ok,
    errors: stats.errors,
    latencies: Float64Array.from(stats.latencies),
  }
}

/**
 * A receiver's delivery receipts, sent as the desktop's outbox sends them: one at a time per
 * conversation, each after the previous one's ack; a message that arrives meanwhile only moves the
 * next receipt's `upTo` forward (coalesced), so a fast conversation sends fewer receipts than messages.
 */
interface ReceiptLane {
  inFlight: boolean
  /** The newest message id received and not yet covered by a sent receipt (0: none). */
  owed: number
  /** A group's receipt waits this long after the first message it covers (Timing.groupDeliveredHoldMs). */
  holdMs: number
  /** When the first message not yet covered arrived (0: none). */
  owedSince: number
  holding: boolean
}

const newLane = (holdMs = 0): ReceiptLane => ({
  inFlight: false,
  owed: 0,
  holdMs,
  owedSince: 0,
  holding: false,
})

/**
 * A group run: every member socket in this worker counts the group's `message` entries tagged
 * with the run's id, and how long each took from its send (the send time is in the text, so a
 * message sent from another worker is timed too, on the one system clock).
 */
interface GroupRun {
  groupId: number
  tag: string
  received: number
  latencies: number[]
  firstRecvAt: number
  lastRecvAt: number
  /** Entries that came with a seq that was not the socket's last one + 1. */
  gaps: number
  /** Whether members send delivery receipts for the run's messages, as the desktop does. */
  sendReceipts: boolean
  receipts: ReceiptStats
  cpuBefore: NodeJS.CpuUsage
  startedAt: number
}

interface Member {
  socket: ClientSocket
  userId: number
  receipts: ReceiptLane
  /** The highest group seq this socket has seen, per group. */
  lastSeq: Map<number, number>
}

const idle: ClientSocket[] = []
/** The idle sockets' tokens, kept so the reconnect storm can bring the same users back. */
const idleTokens: string[] = []
const pairs: Pair[] = []
const members: Member[] = []
let run: Run | null = null
let groupRun: GroupRun | null = null
/** Sockets that went away without us closing them, by reason, since the last `drops` call. */
let dropped: Record<string, number> = {}

function countSockets() {
  return idle.length + pairs.length * 2 + members.length
}

function bump(map: Record<string, number>, key: string) {
  map[key] = (map[key] ?? 0) + 1
}

function connectOne(url: string, token: string, timeoutMs: number): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close()
      reject(new Error('connect timeout'))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect') bump(dropped, reason)
      })
      resolve(socket)
    })
    socket.once('connect_error', (error) => {
      clearTimeout(timer)
      socket.close()
      reject(error)
    })
  })
}

/** Connects one socket per token, `concurrency` handshakes at a time, none started after `deadlineMs`. */
async function connectMany(
  url: string | ((index: number) => string),
  tokens: string[],
  concurrency: number,
  deadlineMs: number,
  keep: (socket: ClientSocket, index: number) => void,
): Promise<ConnectResult> {
  if (countSockets() + tokens.length > MAX_SOCKETS) {
    throw new Error(`a worker may hold at most ${MAX_SOCKETS} sockets`)
  }
  const started = performance.now()
  const deadline = started + deadlineMs
  const errors: Record<string, number> = {}
  const latencies: number[] = []
  let next = 0
  let failed = 0
  const lane = async () => {
    while (next < tokens.length) {
      const index = next++
      const left = deadline - performance.now()
      if (left <= 0) {
        failed++
        bump(errors, 'not started: deadline passed')
        continue
      }
      const t0 = performance.now()
      try {
        const target = typeof url === 'string' ? url : url(index)
        const socket = await connectOne(target, tokens[index]!, Math.min(left, 30_000))
        latencies.push(performance.now() - t0)
        keep(socket, index)
      } catch (error) {
        failed++
        bump(errors, error instanceof Error ? error.message : String(error))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, lane))
  return {
    connected: latencies.length,
    failed,
    errors,
    ms: performance.now() - started,
    latencies: Float64Array.from(latencies),
  }
}

function closeSockets(sockets: ClientSocket[]): number {
  let open = 0
  for (const socket of sockets) {
    if (socket.connected) open++
    socket.close()
  }
  return open
}

function onLiveMessage(pair: Pair, event: FeedEventOf<'message'>) {
  if (!run) return
  if (receiptsOn) {
    const current = run
    const where = { with: event.data.senderId }
    owe(pair.receipts, pair.receiver, where, event.data.id, current.receipts, () => run === current)
  }
  const entry = run.pending.get(event.data.clientId)
  if (!entry) return
  if (entry.received) {
    run.duplicates++
    return
  }
  const at = now()
  entry.received = true
  run.received++
  run.recvLatencies.push(at - entry.sentAt)
  run.lastRecvAt = at
  if (entry.acked) run.pending.delete(event.data.clientId)
}

/** Message `messageId` arrived: a receipt goes now, or covers it later (see ReceiptLane). */
function owe(
  lane: ReceiptLane,
  socket: ClientSocket,
  where: { with: number } | { group: number },
  messageId: number,
  stats: ReceiptStats,
  going: () => boolean,
) {
  if (lane.owed === 0) lane.owedSince = now()
  lane.owed = Math.max(lane.owed, messageId)
  if (lane.inFlight || lane.holding) return
  const due = lane.owedSince + lane.holdMs - now()
  if (due > 0) {
    lane.holding = true
    setTimeout(() => {
      lane.holding = false
      if (going()) owe(lane, socket, where, lane.owed, stats, going)
    }, due)
    return
  }
  const upTo = lane.owed
  lane.owed = 0
  lane.inFlight = true
  stats.sent++
  const sentAt = now()
  socket.timeout(ACK_TIMEOUT_MS).emit('delivered', { ...where, upTo }, (error: Error | null, result: Ack) => {
    lane.inFlight = false
    if (error) bump(stats.errors, 'ack timeout')
    else if (!result.ok) bump(stats.errors, result.error.code)
    else {
      stats.ok++
      stats.latencies.push(now() - sentAt)
    }
    if (lane.owed > 0 && going()) owe(lane, socket, where, lane.owed, stats, going)
  })
}

function onGroupEvent(member: Member, event: GroupEvent) {
  const last = member.lastSeq.get(event.groupId)
  const current = groupRun
  if (current && event.groupId === current.groupId && last !== undefined && event.seq !== last + 1)
    current.gaps++
  member.lastSeq.set(event.groupId, Math.max(last ?? 0, event.seq))
  if (!current || event.type !== 'message' || event.groupId !== current.groupId) return
  const text = event.data.text
  if (text === null || !text.startsWith(current.tag)) return
  const sentAt = Number(text.slice(current.tag.length, text.indexOf(' ', current.tag.length)))
  const at = now()
  current.received++
  current.latencies.push(at - sentAt)
  if (current.firstRecvAt === 0) current.firstRecvAt = at
  current.lastRecvAt = at
  if (current.sendReceipts && event.data.senderId !== member.userId) {
    const where = { group: event.groupId }
    owe(member.receipts, member.socket, where, event.data.id, current.receipts, () => groupRun === current)
  }
}

const handlers = {
  async connectIdle(p: { url: string; tokens: string[]; concurrency: number; deadlineMs: number }) {
    idleTokens.push(...p.tokens)
    return connectMany(p.url, p.tokens, p.concurrency, p.deadlineMs, (socket) => idle.push(socket))
  },

  /**
   * The idle users come back at once, as after a network blip: every socket reconnects and
   * catches up on its feed (`sync` from 0 until `hasMore` is false) before it counts as back.
   * Latencies are from the storm's start to each user being caught up.
   */
  async reconnectIdle(p: { url: string; concurrency: number; deadlineMs: number }) {
    const started = performance.now()
    const caughtUp: number[] = []
    const errors: Record<string, number> = {}
    let events = 0
    const result = await connectMany(p.url, idleTokens, p.concurrency, p.deadlineMs, (socket) => {
      idle.push(socket)
    })
    await Promise.all(
      idle.map(async (socket) => {
        try {
          for (let after = 0, more = true; more; ) {
            const ack = (await socket.timeout(30_000).emitWithAck('sync', { after })) as Ack<SyncResponse>
            if (!ack.ok) throw new Error(ack.error.code)
            events += ack.events.length
            after = ack.cursor
            more = ack.hasMore
          }
          caughtUp.push(performance.now() - started)
        } catch (error) {
          bump(errors, error instanceof Error ? error.message : String(error))
        }
      }),
    )
    for (const [k, v] of Object.entries(result.errors)) errors[k] = (errors[k] ?? 0) + v
    return { connected: result.connected, caughtUp: Float64Array.from(caughtUp), events, errors }
  },

  /** Each pair's sender connects to `senderUrl`, its receiver to `receiverUrl` (several relays: another one). */
  async connectPairs(p: {
    pairs: {
      senderToken: string
      receiverToken: string
      receiverId: number
      senderUrl: string
      receiverUrl: string
    }[]
    deadlineMs: number
  }) {
    const tokens = p.pairs.flatMap((pair) => [pair.senderToken, pair.receiverToken])
    const urlOf = (i: number) => {
      const pair = p.pairs[Math.floor(i / 2)]!
      return i % 2 === 0 ? pair.senderUrl : pair.receiverUrl
    }
    const sockets: ClientSocket[] = []
    const result = await connectMany(urlOf, tokens, 50, p.deadlineMs, (socket, i) => {
      sockets[i] = socket
    })
    if (result.failed > 0) {
      for (const socket of sockets) socket?.close()
      return result
    }
    p.pairs.forEach((pair, i) => {
      const receiver = sockets[2 * i + 1]!
      const entry: Pair = {
        sender: sockets[2 * i]!,
        receiver,
        receiverId: pair.receiverId,
        receipts: newLane(),
      }
      receiver.on('message', (event) => onLiveMessage(entry, event))
      pairs.push(entry)
    })
    return result
  },

  /**
   * Sends `rate` messages a second for `durationMs` from `startAt` (epoch ms), round robin over
   * the pairs, on timer ticks whatever the acks do; then waits up to `drainMs` for the acks and
   * deliveries still owed.
   */
  async run(p: {
    startAt: number
    rate: number
    durationMs: number
    drainMs: number
    ackTimeoutMs: number
    text: string
    /** Receivers send delivery receipts back, as the desktop does. */
    receipts: boolean
  }) {
    if (run) throw new Error('a run is already going')
    receiptsOn = p.receipts
    for (const pair of pairs) pair.receipts = newLane()
    // Pairs whose sockets were dropped (a relay stall can time out pings) sit this one out.
    const live = pairs.filter((pair) => pair.sender.connected && pair.receiver.connected)
    if (live.length === 0) throw new Error('no pair has both sockets connected')
    const total = Math.round((p.rate * p.durationMs) / 1000)
    const current: Run = {
      pending: new Map(),
      received: 0,
      duplicates: 0,
      recvLatencies: [],
      lastRecvAt: 0,
      receipts: noReceipts(),
    }
    run = current
    const ackLatencies: number[] = []
    const ackErrors: Record<string, number> = {}
    let sent = 0
    let acked = 0
    let ackOk = 0
    let lastOkAckAt = 0
    let maxLag = 0
    let firstSendAt = 0
    let lastSendAt = 0
    const cpuBefore = process.cpuUsage()

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, p.startAt - Date.now())))
    const t0 = now()
    const send = () => {
      const i = sent++
      const pair = live[i % live.length]!
      const clientId = randomUUID()
      const sentAt = now()
      if (i === 0) firstSendAt = sentAt
      lastSendAt = sentAt
      maxLag = Math.max(maxLag, sentAt - (t0 + (i * 1000) / p.rate))
      const entry: Pending = { sentAt, acked: false, received: false }
      current.pending.set(clientId, entry)
      pair.sender
        .timeout(p.ackTimeoutMs)
        .emit(
          'message',
          { clientId, recipientId: pair.receiverId, text: p.text },
          (error: Error | null, result: Ack) => {
            const at = now()
            acked++
            entry.acked = true
            if (error) {
              bump(ackErrors, 'ack timeout')
              current.pending.delete(clientId)
            } else if (!result.ok) {
              bump(ackErrors, result.error.code)
              current.pending.delete(clientId)
            } else {
              ackOk++
              lastOkAckAt = at
              ackLatencies.push(at - sentAt)
              if (entry.received) current.pending.delete(clientId)
            }
          },
        )
    }

    // Open loop: each tick sends whatever the schedule says is due by now.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = now() - t0
        const due = elapsed >= p.durationMs ? total : Math.min(total, Math.floor((elapsed * p.rate) / 1000))
        while (sent < due) send()
        if (sent >= total) {
          clearInterval(timer)
          resolve()
        }
      }
      const timer = setInterval(tick, 2)
    })
    const sendEnd = now()

    const drainDeadline = performance.now() + p.drainMs
    const receiptsOwed = () => live.some((pair) => pair.receipts.inFlight || pair.receipts.owed > 0)
    while ((current.pending.size > 0 || receiptsOwed()) && performance.now() < drainDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    run = null
    let unacked = 0
    let undelivered = 0
    for (const entry of current.pending.values()) {
      if (!entry.acked) unacked++
      if (!entry.received) undelivered++
    }
    const cpu = process.cpuUsage(cpuBefore)
    return {
      offered: p.rate,
      pairs: live.length,
      sent,
      acked,
      ackOk,
      ackErrors,
      unacked,
      received: current.received,
      undelivered,
      duplicates: current.duplicates,
      firstSendAt,
      lastSendAt,
      sendEnd,
      lastOkAckAt,
      lastRecvAt: current.lastRecvAt,
      maxLagMs: maxLag,
      ackLatencies: Float64Array.from(ackLatencies),
      recvLatencies: Float64Array.from(current.recvLatencies),
      receipts: receiptSummary(current.receipts),
      cpuMicros: cpu.user + cpu.system,
      wallMs: now() - t0,
    }
  },

  /** Connects one socket per group member; each listens to `group_event`. */
  async connectMembers(p: {
    url: string
    tokens: string[]
    userIds: number[]
    concurrency: number
    deadlineMs: number
  }) {
    return connectMany(p.url, p.tokens, p.concurrency, p.deadlineMs, (socket, i) => {
      const member: Member = {
        socket,
        userId: p.userIds[i]!,
        receipts: newLane(),
        lastSeq: new Map(),
      }
      socket.on('group_event', (event) => onGroupEvent(member, event))
      members.push(member)
    })
  },

  /** From now on, counts and times the deliveries of the group's messages whose text starts with `tag`. */
  async groupListen(p: { groupId: number; tag: string; receipts: boolean; receiptHoldMs: number }) {
    if (groupRun) throw new Error('a group run is already going')
    for (const member of members) member.receipts = newLane(p.receiptHoldMs)
    groupRun = {
      groupId: p.groupId,
      tag: p.tag,
      received: 0,
      latencies: [],
      firstRecvAt: 0,
      lastRecvAt: 0,
      gaps: 0,
      sendReceipts: p.receipts,
      receipts: noReceipts(),
      cpuBefore: process.cpuUsage(),
      startedAt: now(),
    }
    return members.filter((m) => m.socket.connected).length
  },

  async groupProgress() {
    return groupRun?.received ?? 0
  },

  /** Stops counting; returns what came in since `groupListen`. */
  async groupCollect() {
    const current = groupRun
    if (!current) throw new Error('no group run is going')
    groupRun = null
    const cpu = process.cpuUsage(current.cpuBefore)
    return {
      received: current.received,
      gaps: current.gaps,
      firstRecvAt: current.firstRecvAt,
      lastRecvAt: current.lastRecvAt,
      latencies: Float64Array.from(current.latencies),
      receipts: receiptSummary(current.receipts),
      cpuMicros: cpu.user + cpu.system,
      wallMs: now() - current.startedAt,
    }
  },

  /**
   * Sends `rate` group messages a second for `durationMs` from `startAt` (epoch ms), round robin
   * over this worker's member sockets, open loop; then waits up to `ackTimeoutMs` for the acks.
   * Each text starts with `tag` and the send time.
   */
  async groupSend(p: {
    groupId: number
    tag: string
    startAt: number
    rate: number
    durationMs: number
    ackTimeoutMs: number
    text: string
  }) {
    const senders = members.filter((m) => m.socket.connected)
    if (senders.length === 0) throw new Error('no member socket is connected')
    const total = Math.round((p.rate * p.durationMs) / 1000)
    const ackLatencies: number[] = []
    const ackErrors: Record<string, number> = {}
    let sent = 0
    let acked = 0
    let ackOk = 0
    let lastOkAckAt = 0
    let maxLag = 0
    let firstSendAt = 0
    let lastSendAt = 0
    let allAcked: () => void = () => {}
    const acksDone = new Promise<void>((resolve) => {
      allAcked = resolve
    })
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, p.startAt - Date.now())))
    const t0 = now()
    const send = () => {
      const i = sent++
      // Spread over the members: a stride through them, so consecutive senders differ.
      const member = senders[(i * 7919) % senders.length]!
      const sentAt = now()
      if (i === 0) firstSendAt = sentAt
      lastSendAt = sentAt
      maxLag = Math.max(maxLag, sentAt - (t0 + (i * 1000) / p.rate))
      member.socket
        .timeout(p.ackTimeoutMs)
        .emit(
          'message',
          { clientId: randomUUID(), groupId: p.groupId, text: `${p.tag}${sentAt} ${p.text}` },
          (error: Error | null, result: Ack) => {
            const at = now()
            acked++
            if (error) bump(ackErrors, 'ack timeout')
            else if (!result.ok) bump(ackErrors, result.error.code)
            else {
              ackOk++
              lastOkAckAt = at
              ackLatencies.push(at - sentAt)
            }
            if (acked === total) allAcked()
          },
        )
    }
    if (total === 0) allAcked()
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = now() - t0
        const due = elapsed >= p.durationMs ? total : Math.min(total, Math.floor((elapsed * p.rate) / 1000))
        while (sent < due) send()
        if (sent >= total) {
          clearInterval(timer)
          resolve()
        }
      }
      const timer = setInterval(tick, 2)
    })
    // Every emit has its own ack timeout, so this ends.
    await acksDone
    return {
      sent,
      ackOk,
      ackErrors,
      firstSendAt,
      lastSendAt,
      lastOkAckAt,
      maxLagMs: maxLag,
      ackLatencies: Float64Array.from(ackLatencies),
    }
  },

  /** Closes every socket; returns how many were still connected. */
  async closeAll() {
    const n = closeSockets([
      ...idle,
      ...pairs.flatMap((pair) => [pair.sender, pair.receiver]),
      ...members.map((m) => m.socket),
    ])
    idle.length = 0
    pairs.length = 0
    members.length = 0
    return n
  },

  /** Closes the idle sockets; returns how many were still connected. */
  async closeIdle() {
    const n = closeSockets(idle)
    idle.length = 0
    return n
  },

  /** Sockets dropped (not closed by us) since the last call, by disconnect reason. */
  async drops() {
    const result = dropped
    dropped = {}
    return result
  },

  async stats() {
    const memory = process.memoryUsage()
    const cpu = process.cpuUsage()
    return { sockets: countSockets(), rss: memory.rss, cpuMicros: cpu.user + cpu.system }
  },

  async exit() {
    setTimeout(() => process.exit(0), 20)
    return true
  },
}

export type WorkerApi = typeof handlers

serve(handlers, () => process.exit(1))
notify('ready', { pid: process.pid })
