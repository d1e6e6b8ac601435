import Type from 'typebox'
import { Strict, Timestamp } from './common'
import { Presence, PublicUser, Username } from './users'

/**
 * The status of a contact as its owner sees it: `outgoing` (you asked), `incoming` (they asked),
 * `accepted` (you accepted; messaging needs both sides accepted), `blocked` (you blocked them).
 */
export const ContactStatus = Type.Union([
  Type.Literal('outgoing'),
  Type.Literal('incoming'),
  Type.Literal('accepted'),
  Type.Literal('blocked'),
])
export type ContactStatus = Type.Static<typeof ContactStatus>

export const Contact = Strict({
  user: PublicUser,
  status: ContactStatus,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /**
   * Since when the two of you are contacts: when this entry became `accepted`, kept while you
   * block them and when you lift the block; null for an entry that was never accepted.
   */
  acceptedAt: Type.Union([Timestamp, Type.Null()]),
})
export type Contact = Type.Static<typeof Contact>

/** In the contact list; presence is shown only where both sides accepted (null otherwise). */
export const ContactWithPresence = Strict({
  ...Contact.properties,
  presence: Type.Union([Presence, Type.Null()]),
})
export type ContactWithPresence = Type.Static<typeof ContactWithPresence>

export const ContactListResponse = Strict({ contacts: Type.Array(ContactWithPresence) })
export const AddContactBody = Strict({ username: Username })
export type AddContactBody = Type.Static<typeof AddContactBody>
export const ContactResponse = Strict({ contact: Contact })

export const PatchContactBody = Strict({
  status: Type.Union([Type.Literal('accepted'), Type.Literal('blocked')]),
})
export type PatchContactBody = Type.Static<typeof PatchContactBody>
