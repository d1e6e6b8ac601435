import Type from 'typebox'
import { Id, Seq, Strict, Timestamp } from './common'
import { Contact } from './contacts'
import { Group, GroupRemoved, GroupUpdate } from './groups'
import { Message, MessageHiddenEvent } from './messages'
import { OwnUser, PublicUser } from './users'

/**
 * `userId` has received (`delivered`) or read (`read`) the conversation with `peerId` up to message
 * `upTo`, at `at` (the relay's clock; missing from relays older than it).
 */
export const Receipt = Strict({ userId: Id, peerId: Id, upTo: Id, at: Type.Optional(Timestamp) })
export type Receipt = Type.Static<typeof Receipt>
/** `userId` has received or read group `groupId` up to message `upTo` (only their own devices hear of it). */
export const GroupReceipt = Strict({ userId: Id, groupId: Id, upTo: Id, at: Type.Optional(Timestamp) })
export type GroupReceipt = Type.Static<typeof GroupReceipt>

const feedEvent = <T extends string, D extends Type.TSchema>(type: T, data: D) =>
  Strict({ seq: Type.Integer({ minimum: 1 }), type: Type.Literal(type), data })

/**
 * Everything a user must learn about, in the order it happened. Message events carry the
 * message as it is now (a later edit or delete shows through), so applying them is an upsert.
 */
export const FeedEvent = Type.Union([
  feedEvent('message', Message),
  feedEvent('message_updated', Message),
  feedEvent('message_deleted', Message),
  feedEvent('reaction', Message),
  /** You hid the message for yourself (POST /messages/:id/hide): drop it on every device of yours. */
  feedEvent('message_hidden', MessageHiddenEvent),
  feedEvent('delivered', Type.Union([Receipt, GroupReceipt])),
  feedEvent('read', Type.Union([Receipt, GroupReceipt])),
  feedEvent('contact_added', Contact),
  feedEvent('contact_updated', Contact),
  feedEvent('contact_removed', Strict({ userId: Id })),
  feedEvent('user_updated', Type.Union([OwnUser, PublicUser])),
  /** You created, were added to, or joined a group: the group as of then, with its members. */
  feedEvent('group_added', Group),
  /** A change to a group that is about you (your role); the group's log has every change. */
  feedEvent('group_updated', GroupUpdate),
  /** You left or were removed: nothing more of the group reaches you. */
  feedEvent('group_removed', GroupRemoved),
])
export type FeedEvent = Type.Static<typeof FeedEvent>
export type FeedEventType = FeedEvent['type']
export type FeedEventOf<T extends FeedEventType> = Extract<FeedEvent, { type: T }>

/** Every feed event type, read off the union above, so a new variant cannot be left out. */
export const feedEventTypes: readonly FeedEventType[] = FeedEvent.anyOf.map(
  (variant) => variant.properties.type.const,
)

export const MAX_SYNC_PAGE = 1000
export const DEFAULT_SYNC_PAGE = 500

export const SyncQuery = Strict({
  after: Seq,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SYNC_PAGE, default: DEFAULT_SYNC_PAGE })),
})
export type SyncQuery = Type.Static<typeof SyncQuery>

export const SyncResponse = Strict({
  events: Type.Array(FeedEvent),
  /** The seq of the last event returned, or `after` when there were none: ask again from here. */
  cursor: Seq,
  hasMore: Type.Boolean(),
  /** The newest seq in your feed when this page was read: catch-up progress is cursor / head. */
  head: Seq,
})
export type SyncResponse = Type.Static<typeof SyncResponse>

/** Messages per conversation in a snapshot: the newest page of each. */
export const DEFAULT_SNAPSHOT_PAGE = 50
export const MAX_SNAPSHOT_PAGE = 100

export const SnapshotQuery = Strict({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_SNAPSHOT_PAGE, default: DEFAULT_SNAPSHOT_PAGE }),
  ),
})
export type SnapshotQuery = Type.Static<typeof SnapshotQuery>

/** How far someone has received and read a conversation (message ids; 0 for not at all). */
export const SnapshotMarkers = Strict({ deliveredUpTo: Seq, readUpTo: Seq })
export type SnapshotMarkers = Type.Static<typeof SnapshotMarkers>

/** A 1:1 conversation as it is at the snapshot: its newest page, and both people's markers. */
export const SnapshotConversation = Strict({
  peerId: Id,
  /** Newest first, as GET /messages gives them; older ones with GET /messages?with=&before=. */
  messages: Type.Array(Message),
  hasMore: Type.Boolean(),
  /** Yours, and the other person's. */
  own: SnapshotMarkers,
  peer: SnapshotMarkers,
})
export type SnapshotConversation = Type.Static<typeof SnapshotConversation>

/** A group you are in, with its members, its newest page, your markers and everyone's. */
export const SnapshotGroup = Strict({
  /** With its members; `headSeq` is its log's head at the snapshot: read the log after it. */
  group: Group,
  messages: Type.Array(Message),
  hasMore: Type.Boolean(),
  own: SnapshotMarkers,
  /** How far everyone has received and read (as in `group_receipts`). */
  everyone: SnapshotMarkers,
})
export type SnapshotGroup = Type.Static<typeof SnapshotGroup>

/**
 * Everything a new device needs to be usable at once, read in one transaction, and the feed
 * `cursor` to continue from. Older messages are read afterwards with GET /messages.
 */
export const SyncSnapshot = Strict({
  /** The newest seq of your feed when the snapshot was read: continue with GET /sync?after=cursor. */
  cursor: Seq,
  /** The oldest seq GET /sync can still continue from (0: the feed is whole). */
  floor: Seq,
  user: OwnUser,
  contacts: Type.Array(Contact),
  /** The public profiles of everyone else named in it (conversations, group members), once each. */
  users: Type.Array(PublicUser),
  /** Most recently active first. */
  conversations: Type.Array(SnapshotConversation),
  groups: Type.Array(SnapshotGroup),
})
export type SyncSnapshot = Type.Static<typeof SyncSnapshot>
