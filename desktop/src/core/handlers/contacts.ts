import type { Contact, ContactView, UserView } from '@parley/shared'
import type { Account } from '../account'
import { deleteContact, upsertContact } from '../db/tables/contacts'
import { contactView, contactViews } from '../db/views/contacts'
import { online, refuse } from '../refusal'
import type { Core, Handlers } from './context'

type ContactMethods =
  | 'contacts.list'
  | 'contacts.add'
  | 'contacts.accept'
  | 'contacts.block'
  | 'contacts.remove'
  | 'users.search'

/** Contacts and finding people (the relay answers; the store keeps what it said). */
export function contactHandlers(core: Core): Handlers<ContactMethods> {
  const { session } = core
  const contactChanged = (account: Account, contact: Contact): ContactView => {
    upsertContact(account.db, contact)
    core.emit('contacts.changed', { contacts: contactViews(account.db) })
    return contactView(account.db, contact.user.id) ?? refuse('internal', 'The contact was not stored')
  }
  const patch = async (userId: number, status: 'accepted' | 'blocked') => {
    const account = session.signedIn()
    return contactChanged(account, (await online(account.patchContact(userId, status))).contact)
  }
  return {
    'contacts.list': async () => contactViews(session.signedIn().db),
    'contacts.add': async ({ username }) => {
      const account = session.signedIn()
      return contactChanged(account, (await online(account.addContact(username))).contact)
    },
    'contacts.accept': async ({ userId }) => patch(userId, 'accepted'),
    'contacts.block': async ({ userId }) => patch(userId, 'blocked'),
    'contacts.remove': async ({ userId }) => {
      const account = session.signedIn()
      await online(account.removeContact(userId))
      deleteContact(account.db, userId)
      core.emit('contacts.changed', { contacts: contactViews(account.db) })
      return null
    },
    'users.search': async ({ q, limit }) => {
      const { users } = await online(session.signedIn().searchUsers(q, limit))
      return users.map(
        (u): UserView => ({
          id: u.id,
          username: u.username,
          firstName: u.firstName,
          lastName: u.lastName,
          avatarImageId: u.avatarImageId ?? null,
          createdAt: u.createdAt,
        }),
      )
    },
  }
}
