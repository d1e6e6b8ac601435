import Type from 'typebox'
import { Id, ImageId, STORABLE_TEXT_PATTERN, Strict, Timestamp, Uuid } from '../protocol/common'
import { ContactStatus } from '../protocol/contacts'
import { VoiceDuration, Waveform } from '../protocol/files'
import { GroupRole } from '../protocol/groups'
import { MAX_DRAFT_LENGTH } from '../protocol/limits'
import { Reaction } from '../protocol/messages'
import { Presence } from '../protocol/users'
import { CONVERSATION_KEY_PATTERN, type ConversationKey, GROUP_KEY_PATTERN } from './conversation'
import { BridgeError } from './errors'

// The renderer's view of the data. These are the desktop app's own shapes, versioned with it, and
// deliberately not the relay's wire types: a relay that grows a field does not change the bridge
// until the core stores and shows it.

/** A conversation's key (`dm:<userId>`, `group:<groupId>`; see conversation.ts). */
export const ConversationKeySchema = Type.Unsafe<ConversationKey>(
  Type.String({ pattern: CONVERSATION_KEY_PATTERN, maxLength: 22 }),
)

/** A group conversation's key (`group:<groupId>`): what the `groups.*` methods take. */
export const GroupKeySchema = Type.Unsafe<`group:${number}`>(
  Type.String({ pattern: GROUP_KEY_PATTERN, maxLength: 22 }),
)

export const UserView = Strict({
  id: Id,
  username: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  /** The profile picture: `media.get` with size `avatar`; null for none. */
  avatarImageId: Type.Union([ImageId, Type.Null()]),
  createdAt: Timestamp,
})
export type UserView = Type.Static<typeof UserView>

export const ProfileView = Strict({ ...UserView.properties, email: Type.String() })
export type ProfileView = Type.Static<typeof ProfileView>

export const SessionView = Strict({
  user: ProfileView,
  /** The relay this account lives on, as given at sign-in (origin plus any path prefix). */
  relayUrl: Type.String(),
  expiresAt: Type.Union([Timestamp, Type.Null()]),
})
export type SessionView = Type.Static<typeof SessionView>

export const ContactView = Strict({
  user: UserView,
  status: ContactStatus,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** Since when you are contacts, kept through a block and its lifting; null if never accepted (or not known yet). */
  acceptedAt: Type.Union([Timestamp, Type.Null()]),
  /** Known only for mutual contacts while connected; null otherwise. */
  presence: Type.Union([Presence, Type.Null()]),
})
export type ContactView = Type.Static<typeof ContactView>

/**
 * An image attached to a message: fetch it with `media.get` (`thumb` for the 320 px preview,
 * `full` for the original). `local`: only this device has it yet (being uploaded); the id is then
 * this device's own, replaced by the relay's once uploaded, and its size may be unknown (null).
 */
export const ImageView = Strict({
  id: ImageId,
  width: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  height: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  mime: Type.String(),
  local: Type.Boolean(),
})
export type ImageView = Type.Static<typeof ImageView>

export const MediaSize = Type.Union([Type.Literal('thumb'), Type.Literal('full'), Type.Literal('avatar')])
export type MediaSize = Type.Static<typeof MediaSize>

export const MediaView = Strict({ mime: Type.String(), dataBase64: Type.String() })
export type MediaView = Type.Static<typeof MediaView>

/**
 * For a message you sent: `pending` (in the outbox), `sent` (the relay has it), `delivered` and
 * `read` (by the peer), or `failed` (will not be sent without a retry; see `failure`). For a
 * message you received: `delivered`, or `read` once you have read it.
 */
export const MessageState = Type.Union([
  Type.Literal('pending'),
  Type.Literal('sent'),
  Type.Literal('delivered'),
  Type.Literal('read'),
  Type.Literal('failed'),
])
export type MessageState = Type.Static<typeof MessageState>

/** Who a person is, as a group's timeline needs it: their name as shown, and their picture. */
export const PersonRef = Strict({
  userId: Id,
  /** First and last name, else the username; "Unknown user" while this device has no profile of them. */
  displayName: Type.String(),
  /** Their profile picture (`media.get`, size `avatar`); null for none or unknown. */
  avatarImageId: Type.Union([ImageId, Type.Null()]),
})
export type PersonRef = Type.Static<typeof PersonRef>

/**
 * A change of a group shown in its timeline, in order with its messages ("Ada added Grace",
 * "Alan left", "Ada renamed the group to …"). `text` is that sentence, ready to show (you are "You").
 * - `members_added`: `members` were added by `by` (`via: 'added'`), were the first members
 *   (`via: 'created'`: `by` created the group), or joined with a code (`via: 'invite'`, `by` is them).
 * - `member_removed`: `members[0]` was removed by `by`, or left (`members[0].userId === by.userId`).
 * - `role`: `members[0]` became `role` (`owner`: the group was handed over to them).
 * - `title`: renamed to `title`; `avatar`: the picture became `avatarImageId` (null: removed).
 * - `deleted`: `by`, the owner, deleted the group (its last row: the group is read only after it).
 */
export const GroupEventView = Strict({
  kind: Type.Union([
    Type.Literal('members_added'),
    Type.Literal('member_removed'),
    Type.Literal('role'),
    Type.Literal('title'),
    Type.Literal('avatar'),
    Type.Literal('deleted'),
  ]),
  by: PersonRef,
  members: Type.Array(PersonRef),
  via: Type.Union([Type.Literal('created'), Type.Literal('added'), Type.Literal('invite'), Type.Null()]),
  role: Type.Union([GroupRole, Type.Null()]),
  title: Type.Union([Type.String(), Type.Null()]),
  avatarImageId: Type.Union([ImageId, Type.Null()]),
  /** The sentence to show, e.g. "Ada added Grace and Alan". */
  text: Type.String(),
})
export type GroupEventView = Type.Static<typeof GroupEventView>

/** An attached file: the relay's description, or (`local`) one waiting on this device to be uploaded. */
export const FileView = Strict({
  /** The relay’s file id (`messages.downloadFile`); this device's own id while `local`. */
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  size: Type.Integer({ minimum: 0 }),
  type: Type.String(),
  local: Type.Boolean(),
})
export type FileView = Type.Static<typeof FileView>

/**
 * A voice message: its recording (download it by `file.id` with `messages.downloadFile` unless
 * `file.local`: still on this device, waiting to be uploaded), its length and its waveform, and
 * whether this device has played it (kept here only; someone else's unplayed ones are marked).
 */
export const VoiceView = Strict({
  file: FileView,
  durationMs: VoiceDuration,
  waveform: Waveform,
  played: Type.Boolean(),
})
export type VoiceView = Type.Static<typeof VoiceView>

/**
 * What a reply's quote shows of the message it answers, from this device's copy: `shown` (its
 * sender, first line, thumbnail or file name), `deleted` (nothing of what it said), or `missing`
 * (not stored here: older than what was synced, or deleted for you).
 */
export const ReplyQuote = Strict({
  /** The original's relay id. */
  id: Id,
  state: Type.Union([Type.Literal('shown'), Type.Literal('deleted'), Type.Literal('missing')]),
  /** Where the original is stored (to jump to it); null when missing. */
  localId: Type.Union([Id, Type.Null()]),
  position: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  sender: Type.Union([PersonRef, Type.Null()]),
  /** Its first line, when shown and it has text. */
  text: Type.Union([Type.String(), Type.Null()]),
  /** Its picture's id (a thumbnail), when shown and it has one. */
  imageId: Type.Union([Type.String(), Type.Null()]),
  /** Its file's name, when shown and it has one. */
  fileName: Type.Union([Type.String(), Type.Null()]),
  /** It is a voice message. */
  voice: Type.Boolean(),
})
export type ReplyQuote = Type.Static<typeof ReplyQuote>

export const MessageView = Strict({
  /**
   * `text` and `image` are messages (an image message may have a caption in `text`); `event` is a
   * change of a group shown in its timeline (`event` says which; it has no sender's bubble, no
   * state, no reactions, and cannot be edited, deleted or reacted to).
   */
  kind: Type.Union([Type.Literal('text'), Type.Literal('image'), Type.Literal('event')]),
  /** This device's id for the message; stable from the moment it is written, sent or not. */
  localId: Id,
  /** The relay's id; null until the relay has accepted it. */
  id: Type.Union([Id, Type.Null()]),
  clientId: Uuid,
  /** Who wrote it (in a group, one of its members: look them up as any user). For an event: who made the change. */
  senderId: Id,
  /** The other person of a 1:1 message (you, when it is theirs); null in a group. */
  recipientId: Type.Union([Id, Type.Null()]),
  /** The sender's name and picture, as a group's bubble shows them. */
  sender: PersonRef,
  /** The conversation it belongs to. */
  conversation: ConversationKeySchema,
  mine: Type.Boolean(),
  /** Null once deleted. Changes you made offline show here before the relay has them. */
  text: Type.Union([Type.String(), Type.Null()]),
  /** The attached image (the text is then its caption); null for none and once deleted. */
  image: Type.Union([ImageView, Type.Null()]),
  createdAt: Timestamp,
  editedAt: Type.Union([Timestamp, Type.Null()]),
  deletedAt: Type.Union([Timestamp, Type.Null()]),
  reactions: Type.Array(Reaction),
  state: MessageState,
  /** Why the send, or a change to the message, failed; retry or discard it. */
  failure: Type.Union([BridgeError, Type.Null()]),
  /** An edit, delete or reaction of yours is waiting in the outbox. */
  changePending: Type.Boolean(),
  /** Where it sorts in its conversation; pass it as `before` to page older messages. */
  position: Type.Integer({ minimum: 1 }),
  /** The group change, for `kind: 'event'`; null otherwise. */
  event: Type.Union([GroupEventView, Type.Null()]),
  /** Its text mentions you (`@yourusername`, a whole word, any case): notified even in a muted conversation. */
  mentionsMe: Type.Boolean(),
  /** The message it answers; null for none and once deleted. */
  replyTo: Type.Union([ReplyQuote, Type.Null()]),
  /** Its content was forwarded from another message. */
  forwarded: Type.Boolean(),
  /** An attached file; null for none and once deleted. */
  file: Type.Union([FileView, Type.Null()]),
  /** A voice message; null for none and once deleted. */
  voice: Type.Union([VoiceView, Type.Null()]),
})
export type MessageView = Type.Static<typeof MessageView>

export const MessagePage = Strict({
  /** Newest first. */
  messages: Type.Array(MessageView),
  /** The `before` for the next (older) page, or null at the start of the conversation. */
  nextBefore: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  /** The `after` for the next (newer) page, or null when this page reaches the newest message. */
  nextAfter: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
})
export type MessagePage = Type.Static<typeof MessagePage>

export const MessageVersionView = Strict({ text: Type.String(), writtenAt: Timestamp, replacedAt: Timestamp })
export const MessageHistoryView = Strict({
  message: MessageView,
  /** Earlier bodies, oldest first: from the relay when online, else as last fetched. */
  versions: Type.Array(MessageVersionView),
})
export type MessageHistoryView = Type.Static<typeof MessageHistoryView>

export const DraftView = Strict({ text: Type.String(), updatedAt: Timestamp })
export type DraftView = Type.Static<typeof DraftView>

/** Why a group ended for you; null while you are in it (or when this device does not know why). */
export const GroupEndReason = Type.Union([
  Type.Literal('left'),
  Type.Literal('removed'),
  Type.Literal('deleted'),
  Type.Null(),
])

export const ConversationView = Strict({
  key: ConversationKeySchema,
  kind: Type.Union([Type.Literal('dm'), Type.Literal('group')]),
  /** What the chat list and the header show: for a 1:1 conversation, the other person's name. */
  title: Type.String(),
  /** Its picture (`media.get`, size `avatar`): for a 1:1 conversation, the other person's; null for none. */
  avatarImageId: Type.Union([ImageId, Type.Null()]),
  /**
   * The other person of a 1:1 conversation; null for a group, and when this device has never seen
   * the peer's profile (no contact, no profile event).
   */
  peer: Type.Union([UserView, Type.Null()]),
  lastMessage: Type.Union([MessageView, Type.Null()]),
  unread: Type.Integer({ minimum: 0 }),
  draft: Type.Union([DraftView, Type.Null()]),
  lastActivityAt: Timestamp,
  /** A group's member count; null for a 1:1 conversation. */
  memberCount: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  /** Your role in a group; null for a 1:1 conversation and for a group you are no longer in. */
  role: Type.Union([GroupRole, Type.Null()]),
  /**
   * You left the group or were removed (`left: true`): it stays with the messages you had, read
   * only (sending, typing, marking read and group changes are refused with `not_found`).
   */
  left: Type.Boolean(),
  /** Why, once `left`: you left, were removed, or the owner deleted the group; null when not known. */
  leftReason: GroupEndReason,
})
export type ConversationView = Type.Static<typeof ConversationView>

export const GroupMemberView = Strict({
  /** Their profile (fetched from the relay for members who are not your contacts, then kept on this device). */
  user: UserView,
  role: GroupRole,
  joinedAt: Timestamp,
  /** This member is you. */
  me: Type.Boolean(),
})
export type GroupMemberView = Type.Static<typeof GroupMemberView>

export const GroupView = Strict({
  key: GroupKeySchema,
  id: Id,
  title: Type.String(),
  /** The group's picture (`media.get`, size `avatar`); null for none. */
  avatarImageId: Type.Union([ImageId, Type.Null()]),
  createdAt: Timestamp,
  createdBy: Id,
  memberCount: Type.Integer({ minimum: 0 }),
  /** Your role; null once you left or were removed. */
  role: Type.Union([GroupRole, Type.Null()]),
  /** You left or were removed, or the group was deleted: read only (see ConversationView.left). */
  left: Type.Boolean(),
  /** Why it ended for you (see ConversationView.leftReason). */
  leftReason: GroupEndReason,
  /** Every member, the owner first, then admins, then members, each oldest first; empty once you left. */
  members: Type.Array(GroupMemberView),
})
export type GroupView = Type.Static<typeof GroupView>

export const GroupInviteView = Strict({
  code: Type.String(),
  /** `parley://join/<code>`: opens the join screen in the app. */
  link: Type.String(),
  groupId: Id,
  maxUses: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  uses: Type.Integer({ minimum: 0 }),
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  createdBy: Id,
  createdAt: Timestamp,
})
export type GroupInviteView = Type.Static<typeof GroupInviteView>

/** What an invite code shows before joining. */
export const GroupPreviewView = Strict({
  code: Type.String(),
  groupId: Id,
  title: Type.String(),
  /** `media.get` size `avatar` works for it only once you are a member; show initials before. */
  avatarImageId: Type.Union([ImageId, Type.Null()]),
  memberCount: Type.Integer({ minimum: 0 }),
  /** You are already in it (joining again just opens it). */
  member: Type.Boolean(),
})
export type GroupPreviewView = Type.Static<typeof GroupPreviewView>

/** One person's receipts of a message: when it reached them and when they read it (null: not known). */
export const ReceiptView = Strict({
  user: UserView,
  deliveredAt: Type.Union([Timestamp, Type.Null()]),
  readAt: Type.Union([Timestamp, Type.Null()]),
})
export type ReceiptView = Type.Static<typeof ReceiptView>

/**
 * Who has received and read a message (`read` people are not repeated in `delivered`), and when:
 * of yours, the others; of someone else's, you. `offline`: the relay could not be asked, so this is
 * what this device knows (a 1:1 conversation's ticks, and the times its feed brought).
 */
export const ReceiptsView = Strict({
  read: Type.Array(ReceiptView),
  delivered: Type.Array(ReceiptView),
  offline: Type.Boolean(),
})
export type ReceiptsView = Type.Static<typeof ReceiptsView>

export const UnreadCounts = Strict({
  total: Type.Integer({ minimum: 0 }),
  /** Only conversations with unread messages. */
  conversations: Type.Array(
    Strict({ conversation: ConversationKeySchema, count: Type.Integer({ minimum: 1 }) }),
  ),
})
export type UnreadCounts = Type.Static<typeof UnreadCounts>

/** A piece of a search snippet; `match` pieces are the words that matched, to highlight. */
export const SnippetPart = Strict({ text: Type.String(), match: Type.Boolean() })
export const SearchHit = Strict({
  message: MessageView,
  snippet: Type.Array(SnippetPart),
  /** bm25: lower is a better match. */
  rank: Type.Number(),
})
export type SearchHit = Type.Static<typeof SearchHit>

export const Theme = Type.Union([Type.Literal('system'), Type.Literal('light'), Type.Literal('dark')])

/** Settings of this device for this account; every field has a default. */
export const Settings = Strict({
  notifications: Type.Boolean(),
  /** Show the message text in notifications (off: only who wrote). */
  notificationPreview: Type.Boolean(),
  sendTypingIndicators: Type.Boolean(),
  theme: Theme,
  /** Play a sound with a notification. */
  sound: Type.Boolean(),
  /** Conversations whose notifications are silenced. */
  mutedConversations: Type.Array(ConversationKeySchema, { maxItems: 10_000, uniqueItems: true }),
  /** Shell settings, shown only where the shell supports them (Electron): launch at login, close to tray. */
  startAtLogin: Type.Boolean(),
  closeToTray: Type.Boolean(),
})
export type Settings = Type.Static<typeof Settings>

export const defaultSettings: Settings = {
  notifications: true,
  notificationPreview: true,
  sendTypingIndicators: true,
  theme: 'system',
  sound: true,
  mutedConversations: [],
  startAtLogin: false,
  closeToTray: true,
}

/** Which app hosts the core: Electron shows the shell's settings (tray, start at login). */
export const AppInfo = Strict({
  shell: Type.Union([Type.Literal('electron'), Type.Literal('browser')]),
  version: Type.String(),
  platform: Type.String(),
  /** The relay of the account signed in last on this device (signed out since or not). */
  lastRelayUrl: Type.Union([Type.String(), Type.Null()]),
})
export type AppInfo = Type.Static<typeof AppInfo>

/**
 * `offline`: not signed in, or stopped; `connecting`: trying to reach the relay (it is down or the
 * network is); `syncing`: connected, catching up on the feed; `online`: caught up, live.
 */
export const ConnectionState = Type.Union([
  Type.Literal('offline'),
  Type.Literal('connecting'),
  Type.Literal('syncing'),
  Type.Literal('online'),
])
export type ConnectionState = Type.Static<typeof ConnectionState>

/**
 * A device that started from a snapshot reads older history in the background: conversations
 * complete (`done`) of those to fill (`total`).
 */
export const BackfillProgress = Strict({
  done: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 1 }),
})
export type BackfillProgress = Type.Static<typeof BackfillProgress>

export const ConnectionInfo = Strict({
  state: ConnectionState,
  since: Timestamp,
  /** The last reason a connection attempt or catch-up failed, until the next success. */
  lastError: Type.Union([BridgeError, Type.Null()]),
  /** Older messages still loading in the background; absent when there are none to load. */
  backfill: Type.Optional(BackfillProgress),
})
export type ConnectionInfo = Type.Static<typeof ConnectionInfo>

export const DraftText = Type.String({ maxLength: MAX_DRAFT_LENGTH, pattern: STORABLE_TEXT_PATTERN })
