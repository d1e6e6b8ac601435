import Type from 'typebox'
import { Id, ImageId, STORABLE_TEXT_PATTERN, Strict, Timestamp, VISIBLE_TEXT_PATTERN } from './common'
import { USERNAME_PATTERN } from './limits'
import { DeviceName } from './sessions'

export { USERNAME_PATTERN } from './limits'
export const Username = Type.String({ minLength: 3, maxLength: 32, pattern: USERNAME_PATTERN })
export const Password = Type.String({ minLength: 8, maxLength: 256 })
/** Names must hold at least one visible character. */
export const PersonName = Type.String({ minLength: 1, maxLength: 64, pattern: VISIBLE_TEXT_PATTERN })
export const Email = Type.String({ format: 'email', maxLength: 254 })

export const PresenceStatus = Type.Union([
  Type.Literal('online'),
  Type.Literal('away'),
  Type.Literal('offline'),
])
export type PresenceStatus = Type.Static<typeof PresenceStatus>

export const Presence = Strict({
  status: PresenceStatus,
  /** When the user was last connected; null while online or away, or if never seen. */
  lastSeen: Type.Union([Timestamp, Type.Null()]),
})
export type Presence = Type.Static<typeof Presence>

/** What anyone signed in may see of a user. */
export const PublicUser = Strict({
  id: Id,
  username: Username,
  firstName: Type.String(),
  lastName: Type.String(),
  /** The profile picture: GET /images/{id}?size=avatar (256 px square); null for none. */
  avatarImageId: Type.Union([ImageId, Type.Null()]),
  createdAt: Timestamp,
})
export type PublicUser = Type.Static<typeof PublicUser>

/** What the owner sees of their own account. */
export const OwnUser = Strict({ ...PublicUser.properties, email: Type.String() })
export type OwnUser = Type.Static<typeof OwnUser>

/** What `parley-relay admin invite create` prints: base64url, 22 characters for 128 bits. */
export const InviteCode = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })

export const RegisterBody = Strict({
  username: Username,
  password: Password,
  firstName: PersonName,
  lastName: PersonName,
  email: Email,
  /** Names the session this starts, in your list of sessions. */
  deviceName: Type.Optional(DeviceName),
  /** An invite code from the relay's operator, needed when the relay registers by invitation. */
  invite: Type.Optional(InviteCode),
})
export type RegisterBody = Type.Static<typeof RegisterBody>

export const LoginBody = Strict({
  username: Type.String({ minLength: 1, maxLength: 64, pattern: STORABLE_TEXT_PATTERN }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
  deviceName: Type.Optional(DeviceName),
})
export type LoginBody = Type.Static<typeof LoginBody>

export const ChangePasswordBody = Strict({
  currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
  newPassword: Password,
})
export type ChangePasswordBody = Type.Static<typeof ChangePasswordBody>

/** Erasing your own account asks for the password again. */
export const EraseAccountBody = Strict({ password: Type.String({ minLength: 1, maxLength: 256 }) })
export type EraseAccountBody = Type.Static<typeof EraseAccountBody>

export const AuthResponse = Strict({
  user: OwnUser,
  token: Type.String(),
  expiresAt: Timestamp,
})
export type AuthResponse = Type.Static<typeof AuthResponse>

export const SessionResponse = Strict({ user: OwnUser, expiresAt: Timestamp })
export type SessionResponse = Type.Static<typeof SessionResponse>

/** Only profile fields; everything else about an account is not writable this way. */
export const PatchUserBody = Type.Object(
  {
    firstName: Type.Optional(PersonName),
    lastName: Type.Optional(PersonName),
    email: Type.Optional(Email),
    /** An image you uploaded, or null to remove the picture. */
    avatarImageId: Type.Optional(Type.Union([ImageId, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type PatchUserBody = Type.Static<typeof PatchUserBody>

export const UserSearchQuery = Strict({
  q: Type.String({ minLength: 1, maxLength: 32, pattern: STORABLE_TEXT_PATTERN }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
})
export type UserSearchQuery = Type.Static<typeof UserSearchQuery>

export const UserSearchResponse = Strict({ users: Type.Array(PublicUser) })
export const OwnUserResponse = Strict({ user: OwnUser })
/** A user's own profile carries the email; anyone else's does not. */
export const ProfileResponse = Strict({ user: Type.Union([OwnUser, PublicUser]) })
