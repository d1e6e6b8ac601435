import Type from 'typebox'
import { Id, Strict, Timestamp } from './common'
import type { ApiError } from './errors'
import type { GroupEvent, GroupReceiptsEvent } from './groups'
import { AckSeq, Emoji, exactlyOne, MessageResponse, MessageText, SendMessageBody } from './messages'
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
/** In a 1:1 conversation (`with` the other person) or a group (`group`): exactly one of the two. */
export const ReceiptPayload = Type.Object(
  { with: Type.Optional(Id), group: Type.Optional(Id), upTo: Id },
  { additionalProperties: false, ...exactlyOne('with', 'group') },
)
export type ReceiptPayload = Type.Static<typeof ReceiptPayload>
/** To a person (`to`) or a group (`group`): exactly one of the two. */
export const TypingPayload = Type.Object(
  { to: Type.Optional(Id), group: Type.Optional(Id), typing: Type.Boolean() },
  { additionalProperties: false, ...exactlyOne('to', 'group') },
)
export type TypingPayload = Type.Static<typeof TypingPayload>
export const StatusPayload = Strict({ status: Type.Union([Type.Literal('online'), Type.Literal('away')]) })
export type StatusPayload = Type.Static<typeof StatusPayload>

export const ReceiptAck = Strict({ seq: AckSeq })
export type ReceiptAck = Type.Static<typeof ReceiptAck>
const NoResult = Strict({})

/**
 * Every client → relay event: the schema of its payload, and of what its ack carries besides
 * `ok: true` when it succeeds. Each is answered through the ack.
 */
export const clientEvents = {
  message: { payload: SendMessageBody, result: MessageResponse },
  message_updated: { payload: EditMessagePayload, result: MessageResponse },
  message_deleted: { payload: MessageIdPayload, result: MessageResponse },
  reaction: { payload: ReactionPayload, result: MessageResponse },
  delivered: { payload: ReceiptPayload, result: ReceiptAck },
  read: { payload: ReceiptPayload, result: ReceiptAck },
  typing: { payload: TypingPayload, result: NoResult },
  user_status_change: { payload: StatusPayload, result: NoResult },
  sync: { payload: SyncQuery, result: SyncResponse },
} as const
export type ClientEventName = keyof typeof clientEvents
export type ClientEventPayload<E extends ClientEventName> = Type.Static<(typeof clientEvents)[E]['payload']>
export type ClientEventResults = { [E in ClientEventName]: Type.Static<(typeof clientEvents)[E]['result']> }

export type AckFailure = { ok: false; error: ApiError }
export type Ack<T extends object = object> = ({ ok: true } & T) | AckFailure

export type ClientToServerEvents = {
  [E in ClientEventName]: (
    payload: ClientEventPayload<E>,
    ack: (result: Ack<ClientEventResults[E]>) => void,
  ) => void
}

/** `groupId` is there when the typing is in a group. */
export const TypingEvent = Strict({ from: Id, typing: Type.Boolean(), groupId: Type.Optional(Id) })
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
  /** An entry of the log of a group you are in, live (catch up with GET /groups/:id/events). */
  group_event: (event: GroupEvent) => void
  group_receipts: (event: GroupReceiptsEvent) => void
  session_ended: (event: SessionEndedEvent) => void
}
