import Type from 'typebox'
import { Id, ImageId, STORABLE_TEXT_PATTERN, Strict, Uuid } from '../protocol/common'
import { GroupInviteCode, GroupRole, GroupTitle, MAX_MEMBERS_PER_REQUEST } from '../protocol/groups'
import { FILE_PIECE_BYTES } from '../protocol/limits'
import { Emoji, MessageText } from '../protocol/messages'
import { MAX_IMAGE_BYTES } from '../protocol/routes'
import { Email, InviteCode, Password, PersonName, Username } from '../protocol/users'
import { accountDataMethods } from './account-data'
import type { Result } from './errors'
import {
  AppInfo,
  ConnectionInfo,
  ContactView,
  ConversationKeySchema,
  ConversationView,
  DraftText,
  DraftView,
  GroupInviteView,
  GroupKeySchema,
  GroupPreviewView,
  GroupView,
  MediaSize,
  MediaView,
  MessageHistoryView,
  MessagePage,
  MessageView,
  ProfileView,
  ReceiptsView,
  SearchHit,
  SessionView,
  Settings,
  Theme,
  UnreadCounts,
  UserView,
} from './views'

/** An http(s) relay address: an origin, optionally with a path prefix (behind a reverse proxy). */
export const RelayUrl = Type.String({ maxLength: 2048, format: 'uri', pattern: '^https?://' })

/** Base64 of MAX_IMAGE_BYTES (about 13.4 MiB). */
export const MAX_IMAGE_BASE64_LENGTH = Math.ceil(MAX_IMAGE_BYTES / 3) * 4
const FilePieceBase64 = Type.String({
  minLength: 4,
  maxLength: Math.ceil(FILE_PIECE_BYTES / 3) * 4,
  pattern: '^[A-Za-z0-9+/]*={0,2}$',
})
const FileId = Type.String({ pattern: '^[A-Za-z0-9]{22}$' })
const ImageBase64 = Type.String({
  minLength: 4,
  maxLength: MAX_IMAGE_BASE64_LENGTH,
  pattern: '^[A-Za-z0-9+/]*={0,2}$',
})

/**
 * The user confirmed, in words, that a plain `http:` relay on another computer sends their password
 * and messages across the network unencrypted (see isCleartextRemoteRelay). Without it such a
 * relay is refused with `insecure_relay`; https and loopback relays need no confirmation.
 */
const InsecureRelayConfirmed = Type.Optional(Type.Boolean())

const NoParams = Strict({})
const Nothing = Type.Null()
const UserIdParams = Strict({ userId: Id })
const LocalIdParams = Strict({ localId: Id })
const Conversation = ConversationKeySchema
const Group = GroupKeySchema
/** An invite code, or the `parley://join/<code>` link that carries it. */
const InviteCodeOrLink = Type.String({
  maxLength: 100,
  pattern: '^\\s*(parley://join/)?[A-Za-z0-9]{16,64}\\s*$',
})

interface MethodSpec {
  params: Type.TSchema
  result: Type.TSchema
  summary: string
}
const method = <P extends Type.TSchema, R extends Type.TSchema>(params: P, result: R, summary: string) =>
  ({ params, result, summary }) satisfies MethodSpec

/**
 * Every bridge method: `domain.verb`, its parameters (always an object) and its value on success.
 * Electron's ipcMain handlers and the browser host validate calls against these; the core's service
 * implements them. Every call resolves to `Result<value>`.
 */
export const bridgeMethods = {
  'auth.register': method(
    Strict({
      relayUrl: RelayUrl,
      username: Username,
      password: Password,
      firstName: PersonName,
      lastName: PersonName,
      email: Email,
      /** Needed by a relay that registers by invitation (its refusal is `invite_required`). */
      invite: Type.Optional(InviteCode),
      insecureRelayConfirmed: InsecureRelayConfirmed,
    }),
    SessionView,
    'Create an account on a relay and sign in on this device.',
  ),
  'auth.login': method(
    Strict({
      relayUrl: RelayUrl,
      username: Type.String({ minLength: 1, maxLength: 64, pattern: STORABLE_TEXT_PATTERN }),
      password: Type.String({ minLength: 1, maxLength: 256 }),
      insecureRelayConfirmed: InsecureRelayConfirmed,
    }),
    SessionView,
    'Sign in; messages cached earlier for this account on this device are kept.',
  ),
  'auth.logout': method(NoParams, Nothing, 'Sign out: revoke the token and stop syncing (the cache stays).'),
  'auth.session': method(NoParams, Type.Union([SessionView, Type.Null()]), 'Who is signed in, if anyone.'),
  'profile.update': method(
    Type.Object(
      {
        firstName: Type.Optional(PersonName),
        lastName: Type.Optional(PersonName),
        email: Type.Optional(Email),
        /** null removes your picture; a new one comes through profile.setAvatar. */
        avatarImageId: Type.Optional(Type.Null()),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
    ProfileView,
    'Change your own profile (online only).',
  ),
  'profile.setAvatar': method(
    Strict({ dataBase64: ImageBase64 }),
    ProfileView,
    'Upload a picture (PNG, JPEG, GIF or WebP, up to 10 MB) and make it your profile picture (online only); the relay crops it to a square.',
  ),
  'contacts.list': method(NoParams, Type.Array(ContactView), 'Your contacts and requests, by username.'),
  'contacts.add': method(Strict({ username: Username }), ContactView, 'Ask a user to be your contact.'),
  'contacts.accept': method(UserIdParams, ContactView, 'Accept a request, or lift a block.'),
  'contacts.block': method(UserIdParams, ContactView, 'Block a user.'),
  'contacts.remove': method(UserIdParams, Nothing, 'Remove a contact, cancel or decline a request.'),
  'users.search': method(
    Strict({
      q: Type.String({ minLength: 1, maxLength: 32, pattern: STORABLE_TEXT_PATTERN }),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
    }),
    Type.Array(UserView),
    'Find users on the relay by username prefix (online only).',
  ),
  'conversations.list': method(
    NoParams,
    Type.Array(ConversationView),
    'Every conversation on this device, most recent activity first.',
  ),
  'messages.page': method(
    Strict({
      conversation: Conversation,
      before: Type.Optional(Type.Integer({ minimum: 1 })),
      /** Instead of `before`: the messages just after this position (to page toward the newest). */
      after: Type.Optional(Type.Integer({ minimum: 0 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
    }),
    MessagePage,
    'A page of a conversation from the local store, newest first: the newest ones, those before a position, or those just after one. Rows that share a position (a group change and the message it followed) are never split between pages, so a page may hold a few more than `limit`.',
  ),
  'messages.send': method(
    Strict({
      conversation: Conversation,
      text: MessageText,
      clientId: Type.Optional(Uuid),
      /** The relay id of the message of this conversation it answers. */
      replyToId: Type.Optional(Id),
    }),
    MessageView,
    'Write a message: stored at once as pending, sent when the relay is reachable. With a `clientId` (a UUID the caller made), a repeated call returns the message the first one wrote instead of writing another. `replyToId`: a message of this conversation that the relay has (else `reply_not_found`).',
  ),
  'messages.stageFile': method(
    Strict({
      /** Made by the caller (a UUID); the same for every piece of one file. */
      stageId: Uuid,
      /** Where this piece goes: the bytes handed over so far. */
      offset: Type.Integer({ minimum: 0 }),
      dataBase64: FilePieceBase64,
    }),
    Strict({ received: Type.Integer({ minimum: 0 }) }),
    'Hand over a piece of a file to send (up to 6 MB a call, in order): kept in the app at once. Over the relay’s limit: `file_too_large`.',
  ),
  'messages.sendFile': method(
    Strict({
      conversation: Conversation,
      stageId: Uuid,
      name: Type.String({ minLength: 1, maxLength: 255 }),
      type: Type.String({ maxLength: 127 }),
      text: Type.Optional(MessageText),
      clientId: Type.Optional(Uuid),
      replyToId: Type.Optional(Id),
    }),
    MessageView,
    'Send a staged file of any type: shown at once as pending; the outbox uploads it (again from the start after a broken connection) and then sends the message.',
  ),
  'messages.fileLimit': method(
    NoParams,
    Strict({ maxFileBytes: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]) }),
    'The largest file the relay takes (its `GET /health`), or null while it cannot be asked.',
  ),
  'messages.downloadFile': method(
    Strict({ fileId: FileId }),
    Strict({ size: Type.Integer({ minimum: 0 }) }),
    "Bring a message's file onto this device: streamed from the relay to disk (never whole in memory), told by `files.downloadProgress`; a broken download goes on where it stopped; a file already here is not fetched again. Its size; then `messages.readFile` or `messages.saveFileAs`.",
  ),
  'messages.readFile': method(
    Strict({ fileId: FileId, offset: Type.Integer({ minimum: 0 }) }),
    Strict({ dataBase64: Type.String() }),
    'A piece of a downloaded file from `offset` (up to 6 MB a call, so that it fits a bridge frame; empty at the end). Not downloaded: `not_found`; past its end: `invalid_params`.',
  ),
  'messages.saveFileAs': method(
    Strict({ fileId: FileId, name: Type.String({ minLength: 1, maxLength: 255 }) }),
    Strict({ saved: Type.Boolean() }),
    'Electron: ask where to save a downloaded file (the system’s save dialog, `name` suggested, made safe) and copy it there; `saved` is false when the person cancelled. Where the shell has no save dialog (browser mode): `unsupported`. A copy that fails: `save_failed`.',
  ),
  'messages.forward': method(
    Strict({ localId: Id, to: Type.Array(Conversation, { minItems: 1, maxItems: 20, uniqueItems: true }) }),
    Type.Array(MessageView),
    'Forward a message (one the relay has, not deleted) to one or several conversations: each copy is stored at once as pending, marked forwarded, and sent as `forwardOf` (nothing is uploaded again).',
  ),
  'messages.hide': method(
    LocalIdParams,
    Type.Null(),
    'Delete a message for yourself only: it leaves this device at once, and your other devices once the relay has it.',
  ),
  'messages.sendImage': method(
    Strict({
      conversation: Conversation,
      dataBase64: ImageBase64,
      text: Type.Optional(MessageText),
      clientId: Type.Optional(Uuid),
      replyToId: Type.Optional(Id),
    }),
    MessageView,
    'Send a picture (PNG, JPEG, GIF or WebP by its bytes, up to 10 MB), with an optional caption: stored and shown at once as pending, uploaded and sent when the relay is reachable. Other bytes are refused (`unsupported_image`). `clientId` as for `messages.send`.',
  ),
  'messages.edit': method(Strict({ localId: Id, text: MessageText }), MessageView, 'Edit your message.'),
  'messages.delete': method(
    LocalIdParams,
    Type.Union([MessageView, Type.Null()]),
    'Delete your message for everyone; null when it had never left this device (then it is simply gone).',
  ),
  'messages.react': method(
    Strict({ localId: Id, emoji: Emoji }),
    MessageView,
    'Add your reaction, or take it back if you had it.',
  ),
  'messages.markRead': method(
    Strict({ conversation: Conversation, upTo: Type.Optional(Id) }),
    UnreadCounts,
    'Mark a conversation read up to a message (default: all of it).',
  ),
  'messages.retry': method(LocalIdParams, MessageView, 'Queue a failed message, or failed change, again.'),
  'messages.discard': method(
    LocalIdParams,
    Type.Union([MessageView, Type.Null()]),
    'Give up a failed change (the message shows as the relay has it), or a failed message (gone: null).',
  ),
  'messages.history': method(LocalIdParams, MessageHistoryView, "A message's earlier versions."),
  'messages.receipts': method(
    LocalIdParams,
    ReceiptsView,
    'Who of its group has received and who has read a message of yours (online only; a 1:1 message: the other person, or nobody).',
  ),
  'groups.create': method(
    Strict({
      title: GroupTitle,
      /** Contacts to add (mutual accepted contacts only); you are the owner. */
      memberIds: Type.Array(Id, { maxItems: MAX_MEMBERS_PER_REQUEST, uniqueItems: true }),
      avatarBase64: Type.Optional(ImageBase64),
    }),
    GroupView,
    'Create a group with some of your contacts, optionally with a picture (online only). Its conversation is `group:<id>` (also announced by `conversations.changed`).',
  ),
  'groups.get': method(
    Strict({ group: Group }),
    GroupView,
    'A group with its members, from this device (also offline; refreshed from the relay when connected).',
  ),
  'groups.update': method(
    Type.Object(
      {
        group: Group,
        title: Type.Optional(GroupTitle),
        /** A new picture's bytes, or null to remove the picture. */
        avatarBase64: Type.Optional(Type.Union([ImageBase64, Type.Null()])),
      },
      { additionalProperties: false, minProperties: 2 },
    ),
    GroupView,
    'Rename a group or change its picture (owner and admins; online only).',
  ),
  'groups.addMembers': method(
    Strict({
      group: Group,
      userIds: Type.Array(Id, { minItems: 1, maxItems: MAX_MEMBERS_PER_REQUEST, uniqueItems: true }),
    }),
    GroupView,
    'Add contacts to a group (owner and admins; online only). Refusals: `not_group_admin`, `group_full`, `not_contact`.',
  ),
  'groups.removeMember': method(
    Strict({ group: Group, userId: Id }),
    GroupView,
    'Remove someone from a group (owner and admins; nobody removes the owner; online only).',
  ),
  'groups.leave': method(
    Strict({ group: Group }),
    Nothing,
    'Leave a group (online only): it stays on this device with its messages, read only.',
  ),
  'groups.delete': method(
    Strict({ group: Group }),
    Nothing,
    'Delete a group (the owner only; online only): every member is let go; it stays on their devices, read only.',
  ),
  'groups.setRole': method(
    Strict({ group: Group, userId: Id, role: GroupRole }),
    GroupView,
    'Promote or demote a member (owner and admins); `owner` hands the group over (the owner only, who becomes an admin). Online only.',
  ),
  'groups.invites.create': method(
    Strict({
      group: Group,
      maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
      /** How long it works from now; for ever if left out. */
      expiresInMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 * 365 * 24 * 3600 * 1000 })),
    }),
    GroupInviteView,
    'Make an invite code for a group (owner and admins; online only).',
  ),
  'groups.invites.list': method(
    Strict({ group: Group }),
    Type.Array(GroupInviteView),
    "A group's working invite codes (owner and admins; online only).",
  ),
  'groups.invites.revoke': method(
    Strict({ group: Group, code: GroupInviteCode }),
    Nothing,
    'Stop an invite code from working (owner and admins; online only).',
  ),
  'groups.previewInvite': method(
    Strict({ code: InviteCodeOrLink }),
    GroupPreviewView,
    'What an invite code (or `parley://join/<code>` link) leads to, before joining (online only; `invite_not_found` for an unknown, revoked, expired or used-up code).',
  ),
  'groups.join': method(
    Strict({ code: InviteCodeOrLink }),
    ConversationView,
    'Join a group with an invite code or link (online only); its conversation, with the messages from now on.',
  ),
  'typing.set': method(
    Strict({ conversation: Conversation, typing: Type.Boolean() }),
    Nothing,
    'Say you are typing (live only).',
  ),
  'presence.set': method(
    Strict({ status: Type.Union([Type.Literal('online'), Type.Literal('away')]) }),
    Nothing,
    'Set this device online or away.',
  ),
  'drafts.get': method(
    Strict({ conversation: Conversation }),
    Type.Union([DraftView, Type.Null()]),
    'The draft of a conversation.',
  ),
  'drafts.set': method(
    Strict({ conversation: Conversation, text: DraftText }),
    Nothing,
    'Keep a draft (an empty text clears it).',
  ),
  'search.query': method(
    Strict({
      q: Type.String({ minLength: 1, maxLength: 200, pattern: STORABLE_TEXT_PATTERN }),
      conversation: Type.Optional(Conversation),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
      offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    }),
    Type.Array(SearchHit),
    'Search message text on this device: words match by prefix; best first, newest first on ties.',
  ),
  'unread.get': method(NoParams, UnreadCounts, 'Unread counts per conversation and in total.'),
  'settings.get': method(NoParams, Settings, "This account's settings on this device."),
  'settings.set': method(
    Type.Object(
      {
        notifications: Type.Optional(Type.Boolean()),
        notificationPreview: Type.Optional(Type.Boolean()),
        sendTypingIndicators: Type.Optional(Type.Boolean()),
        theme: Type.Optional(Theme),
        sound: Type.Optional(Type.Boolean()),
        mutedConversations: Type.Optional(Type.Array(Conversation, { maxItems: 10_000, uniqueItems: true })),
        startAtLogin: Type.Optional(Type.Boolean()),
        closeToTray: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
    Settings,
    'Change some settings; returns them all.',
  ),
  'media.get': method(
    Strict({ imageId: ImageId, size: MediaSize }),
    MediaView,
    "An image's bytes: fetched from the relay once, then served from this device's cache (also offline).",
  ),
  'connection.get': method(NoParams, ConnectionInfo, 'The connection to the relay.'),
  'app.setViewing': method(
    Strict({ conversation: Type.Union([Conversation, Type.Null()]) }),
    Nothing,
    'Say which conversation the window shows (null: none), so the shell does not notify about it.',
  ),
  'app.info': method(
    NoParams,
    AppInfo,
    'Which shell runs the app (Electron or browser mode), its version and OS, and the relay used last.',
  ),
  ...accountDataMethods,
} as const

export type BridgeMethods = typeof bridgeMethods
export type BridgeMethod = keyof BridgeMethods
export type BridgeParams<M extends BridgeMethod> = Type.Static<BridgeMethods[M]['params']>
export type BridgeValue<M extends BridgeMethod> = Type.Static<BridgeMethods[M]['result']>
export type BridgeResult<M extends BridgeMethod> = Result<BridgeValue<M>>

export const bridgeMethodNames = Object.keys(bridgeMethods) as BridgeMethod[]

export function isBridgeMethod(value: unknown): value is BridgeMethod {
  return typeof value === 'string' && Object.hasOwn(bridgeMethods, value)
}
