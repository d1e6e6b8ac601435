import Type from 'typebox'
import { ErrorBody, IdParams, ImageId, ImageInfo, Strict, Timestamp } from './common'
import { AddContactBody, ContactListResponse, ContactResponse, PatchContactBody } from './contacts'
import { FileParams, FileResponse } from './files'
import {
  AddMembersBody,
  AddMembersResponse,
  CreateGroupBody,
  CreateInviteBody,
  GroupEventsQuery,
  GroupEventsResponse,
  GroupInviteListResponse,
  GroupInviteParams,
  GroupInviteResponse,
  GroupListResponse,
  GroupMemberParams,
  GroupPreviewResponse,
  GroupResponse,
  InviteCodeParams,
  MemberResponse,
  MessageReceiptsResponse,
  PatchGroupBody,
  PatchMemberBody,
  SeqResponse,
} from './groups'
import {
  EditMessageBody,
  HideMessageResponse,
  MessageHistoryResponse,
  MessagePageQuery,
  MessagePageResponse,
  MessageResponse,
  SendMessageBody,
} from './messages'
import { SessionListResponse } from './sessions'
import { SnapshotQuery, SyncQuery, SyncResponse, SyncSnapshot } from './sync'
import {
  AuthResponse,
  ChangePasswordBody,
  EraseAccountBody,
  LoginBody,
  OwnUserResponse,
  PatchUserBody,
  ProfileResponse,
  RegisterBody,
  SessionResponse,
  UserSearchQuery,
  UserSearchResponse,
} from './users'

export const HealthResponse = Strict({
  status: Type.Literal('ok'),
  version: Type.String(),
  time: Timestamp,
  /** The largest file `POST /files` takes, in bytes (the operator's MAX_FILE_BYTES). */
  maxFileBytes: Type.Integer({ minimum: 1 }),
  /** The largest picture `POST /uploadimage` takes, in bytes. */
  maxImageBytes: Type.Integer({ minimum: 1 }),
})
export type HealthResponse = Type.Static<typeof HealthResponse>

export { DEFAULT_MAX_FILE_BYTES, MAX_IMAGE_BYTES } from './limits'

export const ImageResponse = Strict({ image: ImageInfo })
export const ImageParams = Strict({ id: ImageId })
export const ImageQuery = Strict({
  /** `thumb`: longest side 320 px, WebP. `avatar`: 256 px square, JPEG (profile pictures only). */
  size: Type.Optional(Type.Union([Type.Literal('thumb'), Type.Literal('avatar')])),
})
export type ImageQuery = Type.Static<typeof ImageQuery>

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  url: string
  /** Whether a bearer token is required. */
  auth: boolean
  summary: string
  body?: Type.TSchema
  /** A request body other than JSON (the body schema then does not apply). */
  consumes?: 'multipart/form-data'
  /** The success body is image bytes, a file's bytes, or a zip archive, rather than JSON. */
  produces?: 'image' | 'file' | 'zip'
  querystring?: Type.TSchema
  params?: Type.TSchema
  /** The success response; `null` for 204 No Content. */
  status: number
  response: Type.TSchema | null
}

const route = <R extends RouteSpec>(spec: R) => spec

/**
 * The relay's HTTP API. The relay registers its routes from this table and docs/API.md is
 * checked against it, so neither can drift from the other.
 */
export const routes = {
  register: route({
    method: 'POST',
    url: '/users',
    auth: false,
    summary: 'Create an account and sign in.',
    body: RegisterBody,
    status: 201,
    response: AuthResponse,
  }),
  login: route({
    method: 'POST',
    url: '/login',
    auth: false,
    summary: 'Sign in; each sign-in is a session with its own token.',
    body: LoginBody,
    status: 200,
    response: AuthResponse,
  }),
  logout: route({
    method: 'DELETE',
    url: '/logout',
    auth: true,
    summary: "Revoke this session's token and disconnect its sockets.",
    status: 204,
    response: null,
  }),
  session: route({
    method: 'GET',
    url: '/session',
    auth: true,
    summary: "The token's owner and when the token expires.",
    status: 200,
    response: SessionResponse,
  }),
  changePassword: route({
    method: 'POST',
    url: '/password',
    auth: true,
    summary: 'Change your password; every other session of yours is signed out.',
    body: ChangePasswordBody,
    status: 204,
    response: null,
  }),
  listSessions: route({
    method: 'GET',
    url: '/sessions',
    auth: true,
    summary: 'Your signed-in devices: name, when each started and was last used, and from where.',
    status: 200,
    response: SessionListResponse,
  }),
  endSession: route({
    method: 'DELETE',
    url: '/sessions/:id',
    auth: true,
    summary: 'Sign out one of your sessions and disconnect its sockets.',
    params: IdParams,
    status: 204,
    response: null,
  }),
  endOtherSessions: route({
    method: 'DELETE',
    url: '/sessions',
    auth: true,
    summary: 'Sign out every session of yours but the one making the request.',
    status: 204,
    response: null,
  }),
  eraseAccount: route({
    method: 'DELETE',
    url: '/users/me',
    auth: true,
    summary:
      'Erase your account (needs your password): profile wiped, sessions ended, messages deleted for everyone, contacts removed, pictures deleted.',
    body: EraseAccountBody,
    status: 204,
    response: null,
  }),
  exportAccount: route({
    method: 'GET',
    url: '/users/me/export',
    auth: true,
    summary:
      'A zip of your data: profile, contacts, conversations (JSON and a readable index.html) and your pictures.',
    produces: 'zip',
    status: 200,
    response: null,
  }),
  searchUsers: route({
    method: 'GET',
    url: '/users',
    auth: true,
    summary: 'Find users whose username starts with `q` (case-insensitive).',
    querystring: UserSearchQuery,
    status: 200,
    response: UserSearchResponse,
  }),
  getUser: route({
    method: 'GET',
    url: '/users/:id',
    auth: true,
    summary: 'A public profile; your own carries your email.',
    params: IdParams,
    status: 200,
    response: ProfileResponse,
  }),
  patchUser: route({
    method: 'PATCH',
    url: '/users/:id',
    auth: true,
    summary: 'Change your own profile fields.',
    params: IdParams,
    body: PatchUserBody,
    status: 200,
    response: OwnUserResponse,
  }),
  listContacts: route({
    method: 'GET',
    url: '/contacts',
    auth: true,
    summary: 'Your contacts and requests, with presence for accepted ones.',
    status: 200,
    response: ContactListResponse,
  }),
  addContact: route({
    method: 'POST',
    url: '/contacts',
    auth: true,
    summary: 'Ask a user to be your contact (accepts at once if they already asked you).',
    body: AddContactBody,
    status: 201,
    response: ContactResponse,
  }),
  patchContact: route({
    method: 'PATCH',
    url: '/contacts/:id',
    auth: true,
    summary: 'Accept a request (or lift a block back to accepted), or block a user.',
    params: IdParams,
    body: PatchContactBody,
    status: 200,
    response: ContactResponse,
  }),
  removeContact: route({
    method: 'DELETE',
    url: '/contacts/:id',
    auth: true,
    summary: 'Remove a contact, cancel or decline a request, or lift a block.',
    params: IdParams,
    status: 204,
    response: null,
  }),
  messagePage: route({
    method: 'GET',
    url: '/messages',
    auth: true,
    summary: 'A page of a conversation, newest first.',
    querystring: MessagePageQuery,
    status: 200,
    response: MessagePageResponse,
  }),
  sendMessage: route({
    method: 'POST',
    url: '/messages',
    auth: true,
    summary: 'Send a message (idempotent by `clientId`).',
    body: SendMessageBody,
    status: 201,
    response: MessageResponse,
  }),
  editMessage: route({
    method: 'PATCH',
    url: '/messages/:id',
    auth: true,
    summary: 'Edit your message; the previous body is kept in its history.',
    params: IdParams,
    body: EditMessageBody,
    status: 200,
    response: MessageResponse,
  }),
  deleteMessage: route({
    method: 'DELETE',
    url: '/messages/:id',
    auth: true,
    summary: 'Delete your message for everyone, leaving a tombstone.',
    params: IdParams,
    status: 200,
    response: MessageResponse,
  }),
  hideMessage: route({
    method: 'POST',
    url: '/messages/:id/hide',
    auth: true,
    summary: 'Delete a message for yourself only: it leaves your pages and sync on every device of yours.',
    params: IdParams,
    status: 200,
    response: HideMessageResponse,
  }),
  messageHistory: route({
    method: 'GET',
    url: '/messages/:id/history',
    auth: true,
    summary: "A message's earlier bodies, oldest first.",
    params: IdParams,
    status: 200,
    response: MessageHistoryResponse,
  }),
  messageReceipts: route({
    method: 'GET',
    url: '/messages/:id/receipts',
    auth: true,
    summary: 'Who received and who read your message ("seen by"); for its sender only.',
    params: IdParams,
    status: 200,
    response: MessageReceiptsResponse,
  }),
  createGroup: route({
    method: 'POST',
    url: '/groups',
    auth: true,
    summary: 'Create a group with some of your contacts; you are its owner.',
    body: CreateGroupBody,
    status: 201,
    response: GroupResponse,
  }),
  listGroups: route({
    method: 'GET',
    url: '/groups',
    auth: true,
    summary: "The groups you are in, each with its log's head seq.",
    status: 200,
    response: GroupListResponse,
  }),
  getGroup: route({
    method: 'GET',
    url: '/groups/:id',
    auth: true,
    summary: 'A group you are in, with its members.',
    params: IdParams,
    status: 200,
    response: GroupResponse,
  }),
  patchGroup: route({
    method: 'PATCH',
    url: '/groups/:id',
    auth: true,
    summary: 'Rename a group or change its picture (owner and admins).',
    params: IdParams,
    body: PatchGroupBody,
    status: 200,
    response: GroupResponse,
  }),
  deleteGroup: route({
    method: 'DELETE',
    url: '/groups/:id',
    auth: true,
    summary: 'Delete a group (the owner only): every member is let go; what they have stays theirs.',
    params: IdParams,
    status: 200,
    response: SeqResponse,
  }),
  groupEvents: route({
    method: 'GET',
    url: '/groups/:id/events',
    auth: true,
    summary: "A group's log after a seq, in pages: every message and change, in order.",
    params: IdParams,
    querystring: GroupEventsQuery,
    status: 200,
    response: GroupEventsResponse,
  }),
  addGroupMembers: route({
    method: 'POST',
    url: '/groups/:id/members',
    auth: true,
    summary: 'Add contacts to a group (owner and admins).',
    params: IdParams,
    body: AddMembersBody,
    status: 200,
    response: AddMembersResponse,
  }),
  removeGroupMember: route({
    method: 'DELETE',
    url: '/groups/:id/members/:userId',
    auth: true,
    summary: 'Remove a member (owner and admins), or yourself to leave.',
    params: GroupMemberParams,
    status: 200,
    response: SeqResponse,
  }),
  patchGroupMember: route({
    method: 'PATCH',
    url: '/groups/:id/members/:userId',
    auth: true,
    summary: "Change a member's role; `owner` hands the group over (the owner only).",
    params: GroupMemberParams,
    body: PatchMemberBody,
    status: 200,
    response: MemberResponse,
  }),
  createGroupInvite: route({
    method: 'POST',
    url: '/groups/:id/invites',
    auth: true,
    summary: 'Make an invite code for a group (owner and admins).',
    params: IdParams,
    body: CreateInviteBody,
    status: 201,
    response: GroupInviteResponse,
  }),
  listGroupInvites: route({
    method: 'GET',
    url: '/groups/:id/invites',
    auth: true,
    summary: "A group's usable invite codes (owner and admins).",
    params: IdParams,
    status: 200,
    response: GroupInviteListResponse,
  }),
  revokeGroupInvite: route({
    method: 'DELETE',
    url: '/groups/:id/invites/:code',
    auth: true,
    summary: 'Revoke an invite code (owner and admins).',
    params: GroupInviteParams,
    status: 204,
    response: null,
  }),
  previewInvite: route({
    method: 'GET',
    url: '/invites/:code',
    auth: true,
    summary: 'What a group invite code leads to: title, picture, member count.',
    params: InviteCodeParams,
    status: 200,
    response: GroupPreviewResponse,
  }),
  joinWithInvite: route({
    method: 'POST',
    url: '/invites/:code',
    auth: true,
    summary: 'Join the group of an invite code.',
    params: InviteCodeParams,
    status: 200,
    response: GroupResponse,
  }),
  uploadImage: route({
    method: 'POST',
    url: '/uploadimage',
    auth: true,
    summary:
      'Upload a PNG, JPEG, GIF or WebP (multipart field `file`, up to 10 MB) to attach or use as avatar.',
    consumes: 'multipart/form-data',
    status: 201,
    response: ImageResponse,
  }),
  getImage: route({
    method: 'GET',
    url: '/images/:id',
    auth: true,
    summary: 'The bytes of an image you uploaded, were sent, or that is a profile picture.',
    params: ImageParams,
    querystring: ImageQuery,
    produces: 'image',
    status: 200,
    response: null,
  }),
  uploadFile: route({
    method: 'POST',
    url: '/files',
    auth: true,
    summary:
      'Upload a file of any type (multipart field `file`, up to MAX_FILE_BYTES) to attach to messages.',
    consumes: 'multipart/form-data',
    status: 201,
    response: FileResponse,
  }),
  getFile: route({
    method: 'GET',
    url: '/files/:id',
    auth: true,
    summary: 'Download a file you uploaded or that a message you can see carries (Range requests work).',
    params: FileParams,
    produces: 'file',
    status: 200,
    response: null,
  }),
  sync: route({
    method: 'GET',
    url: '/sync',
    auth: true,
    summary: 'Your feed after a cursor, in pages.',
    querystring: SyncQuery,
    status: 200,
    response: SyncResponse,
  }),
  syncSnapshot: route({
    method: 'GET',
    url: '/sync/snapshot',
    auth: true,
    summary:
      'Everything a new device needs at once, read in one transaction, and the feed cursor to continue from.',
    querystring: SnapshotQuery,
    status: 200,
    response: SyncSnapshot,
  }),
  health: route({
    method: 'GET',
    url: '/health',
    auth: false,
    summary: 'Liveness and version.',
    status: 200,
    response: HealthResponse,
  }),
} as const satisfies Record<string, RouteSpec>

export type RouteName = keyof typeof routes
export { ErrorBody }
