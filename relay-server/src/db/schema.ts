import type { Generated, Insertable, Selectable } from 'kysely'

/** Times are integer milliseconds since the epoch; ids are integers (bigint on PostgreSQL). */
export interface UsersTable {
  id: Generated<number>
  username: string
  /** Lowercased username: unique, and what search and sign-in match on. */
  username_key: string
  password_hash: string
  first_name: string
  last_name: string
  email: string
  avatar_image_id: Generated<string | null>
  /** The last seq handed out in this user's feed. */
  feed_seq: Generated<number>
  /** The highest seq compaction may have deleted from this user's feed (0: none). */
  feed_floor: Generated<number>
  last_seen_at: number | null
  created_at: number
  updated_at: number
  /** 1 for the relay's operators (made with `parley-relay admin user make-admin`). */
  is_admin: Generated<number>
  /** When an operator deactivated the account: it can no longer sign in. */
  deactivated_at: Generated<number | null>
  /** When the account was erased: profile wiped, sign-in refused (see services/erase.ts). */
  erased_at: Generated<number | null>
  /** When the erasure's last step finished; null while one is under way (or was cut short). */
  erase_finished_at: Generated<number | null>
  /** When an erased account's username was released for others to register. */
  username_released_at: Generated<number | null>
}

/** A registration invite; `used` grows by one per registration, up to `max_uses`. */
export interface InvitesTable {
  code: string
  max_uses: number
  used: Generated<number>
  expires_at: number | null
  revoked_at: number | null
  created_by: string
  created_at: number
}

/** One thing an operator did with `parley-relay admin`. */
export interface AuditLogTable {
  id: Generated<number>
  at: number
  /** The operating-system user who ran the command, or "cli" when it cannot be told. */
  actor: string
  action: string
  /** JSON: what the action was done to. */
  detail: string
}

export interface SessionsTable {
  id: Generated<number>
  user_id: number
  /** SHA-256 of the bearer token (hex); the token itself is never stored. */
  token_hash: string
  created_at: number
  expires_at: number
  /** Written at most once a minute per session (see AuthService.authenticate). */
  last_used_at: number
  device_name: Generated<string | null>
  /** The client address of the last use (as of `last_used_at`). */
  address: Generated<string | null>
}

/** An address (IPv6: its /64) from which a user signed in successfully, and when last. */
export interface SignInAddressesTable {
  user_id: number
  address: string
  last_at: number
}

/** One row per side: `owner_id` sees `peer_id` with `status`. */
export interface ContactsTable {
  owner_id: number
  peer_id: number
  status: 'outgoing' | 'incoming' | 'accepted' | 'blocked'
  created_at: number
  updated_at: number
  /** Since when the two are contacts: set when this entry is accepted, kept through a block on it. */
  accepted_at: number | null
}

export interface MessagesTable {
  id: Generated<number>
  sender_id: number
  /** Null for a group message. */
  recipient_id: number | null
  /** min/max of the two participants: one index serves a conversation in both directions (null in a group). */
  user_low: number | null
  user_high: number | null
  /** The group, and the seq of the log entry that brought the message (null in 1:1). */
  group_id: Generated<number | null>
  group_seq: Generated<number | null>
  client_id: string
  text: string | null
  image_id: Generated<string | null>
  created_at: number
  edited_at: number | null
  deleted_at: number | null
  /** 1 when the recipient had blocked the sender: the message exists for the sender only, for good. */
  withheld: Generated<number>
  /** The attached file, or the recording of a voice message (then the two voice columns are set). */
  file_id: Generated<string | null>
  voice_duration_ms: Generated<number | null>
  /** Base64 of the waveform, one byte per sample. */
  voice_waveform: Generated<string | null>
  /** The message of the same conversation this one answers. */
  reply_to_id: Generated<number | null>
  /** 1 when the content was copied from another message (`forwardOf`). */
  forwarded: Generated<number>
}

export interface MessageVersionsTable {
  id: Generated<number>
  message_id: number
  text: string
  written_at: number
  replaced_at: number
}

export interface ReactionsTable {
  message_id: number
  user_id: number
  emoji: string
  created_at: number
}

/** How far `owner_id` has received and read the conversation with `peer_id`. */
export interface ReceiptsTable {
  owner_id: number
  peer_id: number
  delivered_up_to: number
  read_up_to: number
  updated_at: number
}

/** A delivered or read marker moved (to `up_to`, at `at`): in the 1:1 conversation with `peer_id`, or group `group_id`. */
export interface ReceiptMarksTable {
  user_id: number
  peer_id: number | null
  group_id: number | null
  kind: 'delivered' | 'read'
  up_to: number
  at: number
}

/** One stored image; `id` is the SHA-256 of its (re-encoded) bytes. */
export interface ImagesTable {
  id: string
  mime: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'
  width: number
  height: number
  bytes: number
  created_at: number
}

export interface ImageUploadsTable {
  image_id: string
  user_id: number
  created_at: number
}

/** One upload of a file; the bytes live under `blob` (their SHA-256), shared by uploads of the same bytes. */
export interface FilesTable {
  /** Random: ids of files are not derived from their bytes, so an id reveals nothing about them. */
  id: string
  owner_id: number
  blob: string
  /** Sanitized: no path, control characters or quotes. */
  name: string
  size: number
  /** The declared media type when well-formed and not contradicted by the bytes, else application/octet-stream. */
  type: string
  created_at: number
}

/** A message `user_id` deleted for themselves: it leaves their pages and sync. */
export interface HiddenMessagesTable {
  user_id: number
  message_id: number
  hidden_at: number
}

export interface FeedEventsTable {
  user_id: number
  seq: number
  type: string
  /** Message events point here and are materialized at read time (so deletes show through). */
  message_id: number | null
  /** Other events keep their data as JSON. */
  payload: string | null
  created_at: number
}

export interface GroupsTable {
  id: Generated<number>
  title: string
  avatar_image_id: string | null
  created_at: number
  created_by: number
  /** The last seq handed out in the group's log. */
  head_seq: Generated<number>
  member_count: Generated<number>
}

export type GroupRoleName = 'owner' | 'admin' | 'member'

export interface GroupMembersTable {
  group_id: number
  user_id: number
  role: GroupRoleName
  joined_at: number
  /** The log entry that added them: they read the log from there on. */
  joined_seq: number
  delivered_up_to: Generated<number>
  read_up_to: Generated<number>
}

/** One entry of a group's log; message entries point at the message, the rest keep JSON. */
export interface GroupEventsTable {
  group_id: number
  seq: number
  type: string
  message_id: number | null
  payload: string | null
  created_at: number
}

export interface GroupInvitesTable {
  code: string
  group_id: number
  max_uses: number | null
  uses: Generated<number>
  expires_at: number | null
  revoked_at: number | null
  created_by: number
  created_at: number
}

export interface Database {
  users: UsersTable
  invites: InvitesTable
  audit_log: AuditLogTable
  sessions: SessionsTable
  sign_in_addresses: SignInAddressesTable
  contacts: ContactsTable
  messages: MessagesTable
  message_versions: MessageVersionsTable
  reactions: ReactionsTable
  receipts: ReceiptsTable
  receipt_marks: ReceiptMarksTable
  feed_events: FeedEventsTable
  images: ImagesTable
  image_uploads: ImageUploadsTable
  files: FilesTable
  hidden_messages: HiddenMessagesTable
  groups: GroupsTable
  group_members: GroupMembersTable
  group_events: GroupEventsTable
  group_invites: GroupInvitesTable
}

export type UserRow = Selectable<UsersTable>
export type NewUser = Insertable<UsersTable>
export type InviteRow = Selectable<InvitesTable>
export type AuditRow = Selectable<AuditLogTable>
export type SessionRow = Selectable<SessionsTable>
export type ContactRow = Selectable<ContactsTable>
export type MessageRow = Selectable<MessagesTable>
export type ImageRow = Selectable<ImagesTable>
export type FileRow = Selectable<FilesTable>
export type GroupRow = Selectable<GroupsTable>
export type GroupMemberRow = Selectable<GroupMembersTable>
export type GroupInviteRow = Selectable<GroupInvitesTable>
