import Type from 'typebox'
import { Id, ImageId, ImageInfo, Strict, Timestamp, Uuid, VISIBLE_TEXT_PATTERN } from './common'
import { MAX_MESSAGE_LENGTH } from './limits'

export { MAX_MESSAGE_LENGTH } from './limits'

/** Message text: up to 4,000 characters, at least one of them visible. */
export const MessageText = Type.String({
  minLength: 1,
  maxLength: MAX_MESSAGE_LENGTH,
  pattern: VISIBLE_TEXT_PATTERN,
})

/**
 * One emoji (with its modifiers, joiners and flags): reactions carry no free text.
 * Up to 16 code points covers the longest ZWJ family sequences.
 */
export const Emoji = Type.String({
  minLength: 1,
  maxLength: 16,
  pattern:
    '^(?:\\p{Extended_Pictographic}|\\p{Regional_Indicator}|\\p{Emoji_Modifier}|[#*0-9\\u200d\\ufe0f\\u20e3])+$',
})

export const Reaction = Strict({ emoji: Emoji, userIds: Type.Array(Id) })
export type Reaction = Type.Static<typeof Reaction>

export const Message = Strict({
  id: Id,
  clientId: Uuid,
  senderId: Id,
  /** The other person of a 1:1 conversation; null in a group. */
  recipientId: Type.Union([Id, Type.Null()]),
  /** The group it was sent to; null in a 1:1 conversation. */
  groupId: Type.Union([Id, Type.Null()]),
  /** The text, or the caption of an image; null for an image without one, and once deleted. */
  text: Type.Union([Type.String(), Type.Null()]),
  /** The attached image (GET /images/{id}, ?size=thumb for 320 px); null for none or once deleted. */
  image: Type.Union([ImageInfo, Type.Null()]),
  createdAt: Timestamp,
  editedAt: Type.Union([Timestamp, Type.Null()]),
  deletedAt: Type.Union([Timestamp, Type.Null()]),
  reactions: Type.Array(Reaction),
})
export type Message = Type.Static<typeof Message>

/** Exactly one of two fields: `anyOf` asks for one, `not` refuses both. */
export function exactlyOne(a: string, b: string) {
  return { anyOf: [{ required: [a] }, { required: [b] }], not: { required: [a, b] } }
}

/**
 * Text, an image you uploaded, or both (the text is then its caption), to a person
 * (`recipientId`) or to a group you are in (`groupId`): exactly one of the two.
 */
export const SendMessageBody = Type.Object(
  {
    /** Chosen by the client (a UUID); a resend with the same one returns the first message. */
    clientId: Uuid,
    recipientId: Type.Optional(Id),
    groupId: Type.Optional(Id),
    text: Type.Optional(MessageText),
    imageId: Type.Optional(ImageId),
  },
  {
    additionalProperties: false,
    allOf: [
      { anyOf: [{ required: ['text'] }, { required: ['imageId'] }] },
      exactlyOne('recipientId', 'groupId'),
    ],
  },
)
export type SendMessageBody = Type.Static<typeof SendMessageBody>

export const EditMessageBody = Strict({ text: MessageText })
export type EditMessageBody = Type.Static<typeof EditMessageBody>

/** A 1:1 conversation (`with` the other person) or a group (`group`): exactly one of the two. */
export const MessagePageQuery = Type.Object(
  {
    with: Type.Optional(Id),
    group: Type.Optional(Id),
    before: Type.Optional(Id),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false, ...exactlyOne('with', 'group') },
)
export type MessagePageQuery = Type.Static<typeof MessagePageQuery>

export const MessagePageResponse = Strict({ messages: Type.Array(Message), hasMore: Type.Boolean() })
/**
 * The seq of the event a write added to the caller's feed (in a group: to the group's log); null
 * when nothing changed (a repeated delete, say).
 */
export const AckSeq = Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])
export const MessageResponse = Strict({ message: Message, seq: AckSeq })
export type MessageResponse = Type.Static<typeof MessageResponse>

export const MessageVersion = Strict({
  text: Type.String(),
  /** When this body was written (sent or edited to). */
  writtenAt: Timestamp,
  /** When the next edit replaced it. */
  replacedAt: Timestamp,
})
export type MessageVersion = Type.Static<typeof MessageVersion>
export const MessageHistoryResponse = Strict({ message: Message, versions: Type.Array(MessageVersion) })
export type MessageHistoryResponse = Type.Static<typeof MessageHistoryResponse>
