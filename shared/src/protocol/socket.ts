import Type from 'typebox'
import { Id, Strict, Timestamp } from './common'
import type { ApiError } from './errors'
import { AckSeq, Emoji, MessageResponse, MessageText, SendMessageBody } from './messages'
import { type FeedEventOf, type FeedEventType, SyncQuery, SyncResponse } from './sync'
import { PresenceStatus } from './users'

export const MessageIdPayload = Strict({ id: Id })
export const EditMessagePayload = Strict({ id: Id, text: MessageText })
/**
 * Without `present` the emoji toggles. With it, the reaction is set to that state, so a resend
 * after a lost ack cannot undo itself.
 */
export const ReactionPayload = Strict({ messageId: Id, emoji: Emoji, present: Type.Optional(Type.Boolean()) })
export type ReactionPayload = Type.Static<typeof ReactionPayload>
export const ReceiptPayload = Strict({ with: Id, upTo: Id })
export type ReceiptPayload = Type.Static<typeof ReceiptPayload>
export const TypingPayload = Strict({ to: Id, typing: Type.Boolean() })
export type TypingPayload = Type.Static<typeof TypingPayload>
export const StatusPayload = Strict({ status: Type.Union([Type.Literal('online'), Type.Literal('away')]) })
export type StatusPayload = Type.Static<typeof StatusPayload>

/** Every client → relay event: its payload schema. Each is answered through the ack. */
export const clientEventPayloads = {
  message: SendMessageBody,
  message_updated: EditMessagePayload,
  message_deleted: MessageIdPayload,
  reaction: ReactionPayload,
  delivered: ReceiptPayload,
  read: ReceiptPayload,
  typing: TypingPayload,
  user_status_change: StatusPayload,
  sync: SyncQuery,
} as const
export type ClientEventName = keyof typeof clientEventPayloads
export type ClientEventPayload<E extends ClientEventName> = Type.Static<(typeof clientEventPayloads)[E]>

export type AckFailure = { ok: false; error: ApiError }
export type Ack<T extends object = object> = ({ ok: true } & T) | AckFailure

export const ReceiptAck = Strict({ seq: AckSeq })
export type ReceiptAck = Type.Static<typeof ReceiptAck>

/** What each client event's ack carries besides `ok: true` when it succeeds. */
export const clientEventResults = {
  message: MessageResponse,
  message_updated: MessageResponse,
  message_deleted: MessageResponse,
  reaction: MessageResponse,
  delivered: ReceiptAck,
  read: ReceiptAck,
  typing: Strict({}),
  user_status_change: Strict({}),
  sync: SyncResponse,
} as const satisfies Record<ClientEventName, Type.TSchema>
export type ClientEventResults = { [E in ClientEventName]: Type.Static<(typeof clientEventResults)[E]> }

export type ClientToServerEvents = {
  [E in ClientEventName]: (
    payload: ClientEventPayload<E>,
    ack: (result: Ack<ClientEventResults[E]>) => void,
  ) => void
}

export const TypingEvent = Strict({ from: Id, typing: Type.Boolean() })
export type TypingEvent = Type.Static<typeof TypingEvent>
export const StatusChangeEvent = Strict({
  userId: Id,
  status: PresenceStatus,
  lastSeen: Type.Union([Timestamp, Type.Null()]),
})
export type StatusChangeEvent = Type.Static<typeof StatusChangeEvent>

/** Sent to a session's sockets just before the relay cuts them: signed out, or the token expired. */
export const SessionEndedEvent = Strict({
  reason: Type.Union([Type.Literal('signed_out'), Type.Literal('expired')]),
})
export type SessionEndedEvent = Type.Static<typeof SessionEndedEvent>

export type ServerToClientEvents = {
  [E in FeedEventType]: (event: FeedEventOf<E>) => void
} & {
  typing: (event: TypingEvent) => void
  user_status_change: (event: StatusChangeEvent) => void
  session_ended: (event: SessionEndedEvent) => void
}
