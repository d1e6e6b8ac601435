import type { ConversationKey } from '@parley/shared'
import type { Generated, Selectable } from 'kysely'

// The local store of one account on one device. Times are integer milliseconds since the epoch;
// ids of relay objects (users, messages) are the relay's. Booleans are 0/1 integers (SQLite).

/** A single row (id = 1): who this database belongs to, and how to reach their relay. */
export interface AccountTable {
  id: number
  user_id: number
  username: string
  first_name: string
  last_name: string
  email: string
  created_at: number
  relay_url: string
  /** Null after sign-out or once the relay refused it; sealed by CoreOptions.tokenCipher when one is given. */
  token: string | null
  token_expires_at: number | null
  avatar_image_id: string | null
}

/** Every user this device has heard of (contacts, message peers), as last seen. */
export interface UsersTable {
  id: number
  username: string
  first_name: string
  last_name: string
  created_at: number
  avatar_image_id: string | null
}

export interface ContactsTable {
  user_id: number
  status: 'outgoing' | 'incoming' | 'accepted' | 'blocked'
  created_at: number
  updated_at: number
  /** Since when you are contacts (the relay's acceptedAt); null if never accepted, or not known yet. */
  accepted_at: number | null
  /** Live only: null while unknown (not mutual, or we are not connected). */
  presence_status: 'online' | 'away' | 'offline' | null
  last_seen: number | null
}

export interface MessagesTable {
  /** This device's id; the row keeps it from the optimistic write to the relay's copy. */
  local_id: Generated<number>
  /** The relay's id; null while the message has not been accepted. */
  server_id: number | null
  client_id: string
  sender_id: number
  recipient_id: number
  /** Its conversation, as an integer (see conversation-id.ts): one index serves a conversation. */
  conversation_id: number
  text: string | null
  created_at: number
  edited_at: number | null
  deleted_at: number | null
  /** JSON array of {emoji, userIds}, as the relay sends it (small, read with the message). */
  reactions: string
  /** Only for messages written here: pending (in the outbox), sent, failed. */
  send_state: 'pending' | 'sent' | 'failed'
  failure_code: string | null
  failure_message: string | null
  image_id: string | null
  image_width: number | null
  image_height: number | null
  image_mime: string | null
  image_bytes: number | null
  /** 1 while image_id is this device's id for bytes not uploaded yet. */
  image_local: Generated<number>
  /** A group change shown in the timeline (JSON {by, change}); null for a message. */
  event: string | null
  /** An event row: the relay id of the group message it followed (it sorts right after it). */
  event_after: number | null
  /** Generated: server_id (an event row: event_after), or past every server id for a pending message (kept last, in order). */
  sort_key: Generated<number>
  /** The relay id of the message of the same conversation this one answers. */
  reply_to_id: number | null
  /** 1 when the content was forwarded from another message. */
  forwarded: Generated<number>
  /** A forward written here: the relay id of the message it copies (sent as `forwardOf`). */
  forward_of: number | null
  /** JSON {id, name, size, type}: an attached file (a local id while `file_local`). */
  file: string | null
  /** 1 while the file's bytes wait on this device, not uploaded yet. */
  file_local: Generated<number>
  /** JSON {file, durationMs, waveform}: a voice message (its file a local copy's while `file_local`). */
  voice: string | null
  /** 1 once this device played the voice message (someone else's unplayed ones are marked). */
  voice_played: Generated<number>
  /** 1 once deleted for this account only ("delete for me", on any of its devices). */
  hidden: Generated<number>
}

export interface MessageVersionsTable {
  message_server_id: number
  text: string
  written_at: number
  replaced_at: number
}

/**
 * One row per conversation (by key: `dm:<userId>`, `group:<groupId>`): activity and the four receipt
 * markers (message ids; 0 = none): the account's own, and the other side's.
 */
export interface ConversationsTable {
  key: ConversationKey
  last_activity_at: number
  own_delivered_up_to: number
  own_read_up_to: number
  peer_delivered_up_to: number
  peer_read_up_to: number
}

/** When a receipt marker moved (relay time): the account's own, or the other side's in a 1:1 conversation. */
export interface ReceiptTimesTable {
  conversation: ConversationKey
  whose: 'own' | 'peer'
  kind: 'delivered' | 'read'
  up_to: number
  at: number
}

export type GroupEndReason = 'left' | 'removed' | 'deleted'

/** A group this account is in, or was (left_at set, role null): kept with its messages. */
export interface GroupsTable {
  id: number
  title: string
  avatar: string | null
  created_at: number
  created_by: number
  member_count: number
  role: 'owner' | 'admin' | 'member' | null
  left_at: number | null
  /** Why it ended for this account, once `left_at` is set (null: ended before this was kept). */
  left_reason: GroupEndReason | null
  /** The highest seq of the group's log applied here. */
  log_cursor: number
  /** The newest relay message id of the group seen in its log (where the next event row sorts). */
  newest_message_id: number
}

export interface GroupMembersTable {
  group_id: number
  user_id: number
  role: 'owner' | 'admin' | 'member'
  joined_at: number
}

export interface SyncStateTable {
  id: number
  /** The highest feed seq applied. */
  cursor: number
  /** Messages up to this local_id are in the full-text index. */
  text_indexed_up_to: number
}

export type OutboxKind = 'send' | 'edit' | 'delete' | 'react' | 'read' | 'delivered' | 'hide'
/** `acked`: the relay did it; kept (as an overlay) until the feed has caught up to `ack_seq`. */
export type OutboxState = 'queued' | 'acked' | 'failed'

export interface OutboxTable {
  id: Generated<number>
  kind: OutboxKind
  conversation: ConversationKey
  message_local_id: number | null
  /** JSON: edit {text}, react {emoji, present}, read/delivered {upTo}, send/delete {}. */
  payload: string
  state: OutboxState
  attempts: number
  next_attempt_at: number
  ack_seq: number | null
  error_code: string | null
  error_message: string | null
  created_at: number
}

export interface DraftsTable {
  conversation: ConversationKey
  text: string
  updated_at: number
}

export interface SettingsTable {
  key: string
  /** JSON. */
  value: string
}

export type MediaSize = 'thumb' | 'full' | 'avatar'

/** The on-disk media cache's index (files live in the account's media folder). */
export interface MediaFilesTable {
  image_id: string
  size: MediaSize
  mime: string
  bytes: number
  last_used_at: number
  pinned: number
}

/** A conversation whose older history is still being read from the relay (see sync/backfill.ts). */
export interface BackfillTable {
  conversation: ConversationKey
  /** The oldest relay message id read so far: the next page is before it. */
  before_id: number
  done: number
}

export interface LocalDatabase {
  account: AccountTable
  users: UsersTable
  contacts: ContactsTable
  messages: MessagesTable
  message_versions: MessageVersionsTable
  conversations: ConversationsTable
  receipt_times: ReceiptTimesTable
  sync_state: SyncStateTable
  groups: GroupsTable
  group_members: GroupMembersTable
  outbox: OutboxTable
  drafts: DraftsTable
  settings: SettingsTable
  media_files: MediaFilesTable
  backfill: BackfillTable
}

export type AccountRow = Selectable<AccountTable>
export type UserRow = Selectable<UsersTable>
export type MessageRow = Selectable<MessagesTable>
export type ConversationRow = Selectable<ConversationsTable>
export type OutboxRow = Selectable<OutboxTable>
export type GroupRow = Selectable<GroupsTable>
export type GroupMemberRow = Selectable<GroupMembersTable>
