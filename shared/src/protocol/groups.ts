import Type from 'typebox'
import { Id, ImageId, Seq, Strict, Timestamp, VISIBLE_TEXT_PATTERN } from './common'
import { AckSeq, Message } from './messages'

/** A group has one owner; the owner and admins manage it, members talk in it. */
export const GroupRole = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member')])
export type GroupRole = Type.Static<typeof GroupRole>

/** A group's title: 1 to 100 characters, at least one of them visible. */
export const GroupTitle = Type.String({ minLength: 1, maxLength: 100, pattern: VISIBLE_TEXT_PATTERN })

export const GroupMember = Strict({ userId: Id, role: GroupRole, joinedAt: Timestamp })
export type GroupMember = Type.Static<typeof GroupMember>

export const Group = Strict({
  id: Id,
  title: Type.String(),
  /** The group's picture: GET /images/{id}?size=avatar; null for none. */
  avatar: Type.Union([ImageId, Type.Null()]),
  createdAt: Timestamp,
  createdBy: Id,
  memberCount: Type.Integer({ minimum: 0 }),
  /** Every member, oldest first: in GET /groups/:id and `group_added`, not in lists. */
  members: Type.Optional(Type.Array(GroupMember)),
  /** Your role in it. */
  role: GroupRole,
  /**
   * The seq of the newest entry in the group's log as of this snapshot: read its log after it
   * (GET /groups/:id/events?after=headSeq) to be up to date.
   */
  headSeq: Seq,
})
export type Group = Type.Static<typeof Group>

/** What an invite code shows before joining. */
export const GroupPreview = Strict({
  id: Id,
  title: Type.String(),
  avatar: Type.Union([ImageId, Type.Null()]),
  memberCount: Type.Integer({ minimum: 0 }),
})
export type GroupPreview = Type.Static<typeof GroupPreview>

/** A group invite code: letters and digits only (22 of them carry 130 random bits). */
export const GroupInviteCode = Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9]+$' })

export const GroupInvite = Strict({
  code: GroupInviteCode,
  groupId: Id,
  /** How many people may join with it; null for no limit. */
  maxUses: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  uses: Type.Integer({ minimum: 0 }),
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  createdBy: Id,
  createdAt: Timestamp,
})
export type GroupInvite = Type.Static<typeof GroupInvite>

/**
 * One change to a group, small whatever the group's size: a membership change names only the
 * members it is about.
 */
export const GroupChange = Type.Union([
  Strict({ kind: Type.Literal('title'), title: Type.String() }),
  Strict({ kind: Type.Literal('avatar'), avatar: Type.Union([ImageId, Type.Null()]) }),
  Strict({
    kind: Type.Literal('members_added'),
    members: Type.Array(GroupMember),
    /** `created`: the group's first members; `added` by `by`; `invite`: joined with a code. */
    via: Type.Union([Type.Literal('created'), Type.Literal('added'), Type.Literal('invite')]),
  }),
  /** `by` equal to `userId`: they left. */
  Strict({ kind: Type.Literal('member_removed'), userId: Id }),
  Strict({ kind: Type.Literal('role'), userId: Id, role: GroupRole }),
  /** The owner deleted the group: the log's last entry; every member was let go with it. */
  Strict({ kind: Type.Literal('deleted') }),
])
export type GroupChange = Type.Static<typeof GroupChange>

/** Who changed what in which group (`by`: the member who did it). */
export const GroupUpdate = Strict({
  groupId: Id,
  seq: Type.Integer({ minimum: 1 }),
  by: Id,
  change: GroupChange,
})
export type GroupUpdate = Type.Static<typeof GroupUpdate>

/** `left`: you left; `removed`: `by` removed you; `deleted`: `by` (the owner) deleted the group. */
export const GroupRemoved = Strict({
  groupId: Id,
  by: Id,
  reason: Type.Union([Type.Literal('left'), Type.Literal('removed'), Type.Literal('deleted')]),
})
export type GroupRemoved = Type.Static<typeof GroupRemoved>

const groupEvent = <T extends string, D extends Type.TSchema>(type: T, data: D) =>
  Strict({
    groupId: Id,
    /** The group's own sequence: every change to the group, in the one order all members see. */
    seq: Type.Integer({ minimum: 1 }),
    type: Type.Literal(type),
    createdAt: Timestamp,
    data,
  })

/**
 * An entry of a group's log: messages and what happens to them, and changes of the group itself
 * (title, picture, members, roles), totally ordered by `seq`. Message entries carry the message as
 * it is now, as in the feed.
 */
export const GroupEvent = Type.Union([
  groupEvent('message', Message),
  groupEvent('message_updated', Message),
  groupEvent('message_deleted', Message),
  groupEvent('reaction', Message),
  groupEvent('group_updated', GroupUpdate),
])
export type GroupEvent = Type.Static<typeof GroupEvent>
export type GroupEventType = GroupEvent['type']

export const MAX_GROUP_EVENTS_PAGE = 1000
export const DEFAULT_GROUP_EVENTS_PAGE = 500

export const GroupEventsQuery = Strict({
  after: Seq,
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: MAX_GROUP_EVENTS_PAGE, default: DEFAULT_GROUP_EVENTS_PAGE }),
  ),
})
export type GroupEventsQuery = Type.Static<typeof GroupEventsQuery>

export const GroupEventsResponse = Strict({
  events: Type.Array(GroupEvent),
  /** The seq of the last event returned, or `after` when there were none. */
  cursor: Seq,
  hasMore: Type.Boolean(),
  head: Seq,
})
export type GroupEventsResponse = Type.Static<typeof GroupEventsResponse>

/** The most people one request adds (the group's own limit is GROUP_MAX_MEMBERS). */
export const MAX_MEMBERS_PER_REQUEST = 100

const MemberIds = Type.Array(Id, { maxItems: MAX_MEMBERS_PER_REQUEST, uniqueItems: true })

export const CreateGroupBody = Strict({ title: GroupTitle, memberIds: MemberIds })
export type CreateGroupBody = Type.Static<typeof CreateGroupBody>

export const PatchGroupBody = Type.Object(
  {
    title: Type.Optional(GroupTitle),
    /** An image you uploaded, or null to remove the picture. */
    avatarImageId: Type.Optional(Type.Union([ImageId, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type PatchGroupBody = Type.Static<typeof PatchGroupBody>

export const AddMembersBody = Strict({
  userIds: Type.Array(Id, { minItems: 1, maxItems: MAX_MEMBERS_PER_REQUEST, uniqueItems: true }),
})
export type AddMembersBody = Type.Static<typeof AddMembersBody>

export const PatchMemberBody = Strict({ role: GroupRole })
export type PatchMemberBody = Type.Static<typeof PatchMemberBody>

export const CreateInviteBody = Strict({
  maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  /** When it stops working (ms since the epoch); never if left out. */
  expiresAt: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
})
export type CreateInviteBody = Type.Static<typeof CreateInviteBody>

export const GroupMemberParams = Strict({ id: Id, userId: Id })
export type GroupMemberParams = Type.Static<typeof GroupMemberParams>
export const GroupInviteParams = Strict({ id: Id, code: GroupInviteCode })
export type GroupInviteParams = Type.Static<typeof GroupInviteParams>
export const InviteCodeParams = Strict({ code: GroupInviteCode })
export type InviteCodeParams = Type.Static<typeof InviteCodeParams>

/** `seq`: the entry this write added to the group's log; null when nothing changed. */
export const GroupResponse = Strict({ group: Group, seq: AckSeq })
export type GroupResponse = Type.Static<typeof GroupResponse>
export const GroupListResponse = Strict({ groups: Type.Array(Group) })
export type GroupListResponse = Type.Static<typeof GroupListResponse>
export const AddMembersResponse = Strict({ added: Type.Array(GroupMember), seq: AckSeq })
export type AddMembersResponse = Type.Static<typeof AddMembersResponse>
export const MemberResponse = Strict({ member: GroupMember, seq: AckSeq })
export type MemberResponse = Type.Static<typeof MemberResponse>
export const SeqResponse = Strict({ seq: AckSeq })
export type SeqResponse = Type.Static<typeof SeqResponse>
export const GroupInviteResponse = Strict({ invite: GroupInvite })
export const GroupInviteListResponse = Strict({ invites: Type.Array(GroupInvite) })
export const GroupPreviewResponse = Strict({ group: GroupPreview })

/** When one person's receipt reached a message. */
export const ReceiptTime = Strict({ userId: Id, at: Timestamp })
export type ReceiptTime = Type.Static<typeof ReceiptTime>

/**
 * Who has received and who has read a message (`read` members are not repeated in `delivered`),
 * and when: `times.delivered` for everyone in either list (reading implies receiving), `times.read`
 * for the readers; someone whose receipt predates the relay keeping times is left out. `times` is
 * missing from relays older than it.
 */
export const MessageReceiptsResponse = Strict({
  read: Type.Array(Id),
  delivered: Type.Array(Id),
  times: Type.Optional(Strict({ delivered: Type.Array(ReceiptTime), read: Type.Array(ReceiptTime) })),
})
export type MessageReceiptsResponse = Type.Static<typeof MessageReceiptsResponse>

/** Live, to a group's members: how far every member has received and read (the "everyone" ticks). */
export const GroupReceiptsEvent = Strict({ groupId: Id, deliveredUpTo: Seq, readUpTo: Seq })
export type GroupReceiptsEvent = Type.Static<typeof GroupReceiptsEvent>
