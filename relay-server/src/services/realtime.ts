import type { PresenceStatus, ServerToClientEvents } from '@parley/shared'
import type { CommittedEvent } from './committer'

/**
 * What services need from the live layer. The Socket.IO implementation works across relays
 * through the adapter; services never touch sockets directly.
 */
export interface Realtime {
  toUsers<E extends keyof ServerToClientEvents>(
    userIds: readonly number[],
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void
  /** To every socket in a group's room (its members'), on every relay, but those of `exceptUsers`. */
  toGroup<E extends keyof ServerToClientEvents>(
    groupId: number,
    exceptUsers: readonly number[],
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void
  /** Puts every socket of these users into (or takes them out of) a group's room, on every relay. */
  joinGroup(userIds: readonly number[], groupId: number): void
  leaveGroup(userIds: readonly number[], groupId: number): void
  /** Live copies of committed feed events, to every socket of each event's user. */
  publishFeed(events: readonly CommittedEvent[]): void
  /** The live status of each user with at least one connected socket, on any relay. */
  liveStatuses(userIds: readonly number[]): Promise<Map<number, Exclude<PresenceStatus, 'offline'>>>
  /** Tells the session's sockets why, then cuts them, on every relay. */
  disconnectSession(sessionId: number, reason: 'signed_out' | 'expired'): void
}

export const userRoom = (userId: number) => `user:${userId}`
export const sessionRoom = (sessionId: number) => `session:${sessionId}`
export const groupRoom = (groupId: number) => `group:${groupId}`
