import Type from 'typebox'
import { Id, ImageId, ImageInfo, Strict, Timestamp, Uuid, VISIBLE_TEXT_PATTERN } from './common'
import { FileId, FileInfo, VoiceBody, VoiceInfo } from './files'
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
  /** An attached file (GET /files/{id}); null for none or once deleted. */
  file: Type.Union([FileInfo, Type.Null()]),
  /** A voice message: its recording (GET /files/{id}), length and waveform; null for none or once deleted. */
  voice: Type.Union([VoiceInfo, Type.Null()]),
  /**
   * The message of the same conversation this one answers. Clients show the quote from their own
   * copy (the original may since have been deleted: show that, never its old text). Null once deleted.
   */
  replyToId: Type.Union([Id, Type.Null()]),
  /** Whether the content was forwarded from another message (`forwardOf`). */
  forwarded: Type.Boolean(),
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
 * With `field`, none of `others` (each refused at its own path, so the error names it). The
 * refusal comes first in the `anyOf` so that its error is the one reported.
 */
function excludes(field: string, ...others: string[]) {
  const refused = { properties: Object.fromEntries(others.map((name) => [name, { not: {} }])) }
  return { anyOf: [refused, { not: { required: [field] } }] }
}

/**
 * A message to a person (`recipientId`) or to a group you are in (`groupId`): exactly one of the two.
 * Its content is text, an image or a file you uploaded, a voice message (a recording you uploaded,
 * with its length and waveform), or `forwardOf`, a message you can see whose content the relay copies
 * (nothing is uploaded again). Text goes with an image, a file or a voice message as its caption;
 * a voice message goes with no image or file; `forwardOf` goes with no other content. `replyToId`
 * may go with any of them: a message of the same conversation that you can see.
 */
export const SendMessageBody = Type.Object(
  {
    /** Chosen by the client (a UUID); a resend with the same one returns the first message. */
    clientId: Uuid,
    recipientId: Type.Optional(Id),
    groupId: Type.Optional(Id),
    text: Type.Optional(MessageText),
    imageId: Type.Optional(ImageId),
    fileId: Type.Optional(FileId),
    voice: Type.Optional(VoiceBody),
    forwardOf: Type.Optional(Id),
    replyToId: Type.Optional(Id),
  },
  {
    additionalProperties: false,
    allOf: [
      {
        anyOf: ['text', 'imageId', 'fileId', 'voice', 'forwardOf'].map((name) => ({ required: [name] })),
      },
      exactlyOne('recipientId', 'groupId'),
      excludes('forwardOf', 'text', 'imageId', 'fileId', 'voice'),
      excludes('voice', 'imageId', 'fileId'),
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
/** `seq`: the `message_hidden` event in your feed; null when the message was hidden already. */
export const HideMessageResponse = Strict({ seq: AckSeq })
export type HideMessageResponse = Type.Static<typeof HideMessageResponse>
export const MessageHiddenEvent = Strict({ messageId: Id })
export type MessageHiddenEvent = Type.Static<typeof MessageHiddenEvent>

export const MessageHistoryResponse = Strict({ message: Message, versions: Type.Array(MessageVersion) })
export type MessageHistoryResponse = Type.Static<typeof MessageHistoryResponse>
