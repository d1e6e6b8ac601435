import Type from 'typebox'
import { Id, Strict } from '../protocol/common'
import { GroupInviteCode } from '../protocol/groups'
import { Presence } from '../protocol/users'
import {
  ConnectionInfo,
  ContactView,
  ConversationKeySchema,
  ConversationView,
  GroupView,
  MessageView,
  ProfileView,
  SessionView,
  Settings,
  UnreadCounts,
  UserView,
} from './views'

/** Every event the core pushes to the renderer (past tense), with its payload. */
export const bridgeEvents = {
  /**
   * Messages of one conversation changed how they look (arrived, written, sent, edited, deleted,
   * reacted to): each is listed once per change, not again when nothing visible changed. Ticks are
   * not a change here: they follow `receipts.changed`. `reload` means too many changed to list (a
   * catch-up that touched more than a screenful): read the page again.
   */
  'messages.changed': Strict({
    conversation: ConversationKeySchema,
    messages: Type.Array(MessageView),
    removedLocalIds: Type.Array(Id),
    reload: Type.Boolean(),
  }),
  /**
   * A conversation's receipt markers moved (relay message ids; 0 = none). Your messages up to
   * `readUpTo` are read by the other side, up to `deliveredUpTo` delivered (reading implies
   * delivery); in a group, by everyone in it (the "everyone" ticks); their messages up to `ownReadUpTo` are read by you. The states of the messages a window
   * holds follow from these, so a receipt rereads no page.
   */
  'receipts.changed': Strict({
    conversation: ConversationKeySchema,
    deliveredUpTo: Type.Integer({ minimum: 0 }),
    readUpTo: Type.Integer({ minimum: 0 }),
    ownReadUpTo: Type.Integer({ minimum: 0 }),
  }),
  /**
   * The chat list's rows that changed (a new last message, its ticks, the unread count, the
   * draft, the last activity), instead of the whole list; new conversations come this way too.
   */
  'conversations.changed': Strict({ conversations: Type.Array(ConversationView) }),
  /**
   * A group changed (title, picture, members, roles, yours; you joined, left or were removed): the
   * whole group as `groups.get` gives it. The chat list's row follows by `conversations.changed`.
   */
  'groups.changed': Strict({ conversation: ConversationKeySchema, group: GroupView }),
  /** The whole contact list, after any change to it. */
  'contacts.changed': Strict({ contacts: Type.Array(ContactView) }),
  'presence.changed': Strict({ userId: Id, presence: Type.Union([Presence, Type.Null()]) }),
  /**
   * Someone (`userId`) is typing in a conversation, or stopped. A `true` expires by itself: the core
   * sends `false` when no repeat came for a few seconds.
   */
  'typing.changed': Strict({ conversation: ConversationKeySchema, userId: Id, typing: Type.Boolean() }),
  'connection.changed': ConnectionInfo,
  /** Also the shell's badge: `total`. */
  'unread.changed': UnreadCounts,
  'profile.changed': Strict({ user: ProfileView }),
  /**
   * An image message's upload: sent so far of total bytes. Emitted when the upload starts (0), as
   * it goes (at most once per 5% of the picture), and when the relay has taken it all
   * (sentBytes = totalBytes).
   */
  'media.uploadProgress': Strict({
    localId: Id,
    sentBytes: Type.Integer({ minimum: 0 }),
    totalBytes: Type.Integer({ minimum: 0 }),
  }),
  /** How far a file is on its way down from the relay (`messages.downloadFile`); the last has receivedBytes = totalBytes. */
  'files.downloadProgress': Strict({
    fileId: Type.String(),
    receivedBytes: Type.Integer({ minimum: 0 }),
    totalBytes: Type.Integer({ minimum: 0 }),
  }),
  /**
   * New messages from others arrived (live or in a catch-up), one event per conversation and batch:
   * the newest of them, who wrote it, and how many. What the shell notifies about.
   */
  'messages.received': Strict({
    conversation: ConversationKeySchema,
    count: Type.Integer({ minimum: 1 }),
    message: MessageView,
    sender: Type.Union([UserView, Type.Null()]),
    /** The conversation's title (a group's name; the sender's name in 1:1), for the notification's heading. */
    title: Type.String(),
    /** One of them mentions you (`@username`): notify even when the conversation is muted. */
    mentionsMe: Type.Boolean(),
  }),
  'settings.changed': Settings,
  /** The shell asks the renderer to show a conversation (a notification was clicked, a parley:// link). */
  'app.openConversation': Strict({ conversation: ConversationKeySchema, localId: Type.Optional(Id) }),
  /** The shell asks the renderer to show a group invite's join screen (a `parley://join/<code>` link). */
  'app.openJoin': Strict({ code: GroupInviteCode }),
  /** Signed in or out; `expired` when the relay no longer accepts the token (sign in again). */
  'session.changed': Strict({
    session: Type.Union([SessionView, Type.Null()]),
    reason: Type.Union([Type.Literal('signed_in'), Type.Literal('signed_out'), Type.Literal('expired')]),
  }),
} as const

export type BridgeEvents = typeof bridgeEvents
export type BridgeEvent = keyof BridgeEvents
export type BridgeEventPayload<E extends BridgeEvent> = Type.Static<BridgeEvents[E]>
