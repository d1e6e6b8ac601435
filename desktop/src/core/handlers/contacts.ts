import type { Contact, ContactView, UserView } from '@parley/shared'
import type { Account } from '../account'
import { online } from '../refusal'
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
    const view = account.contacts.save(contact)
    core.emit('contacts.changed', { contacts: account.contacts.list() })
    return view
  }
  const patch = async (userId: number, status: 'accepted' | 'blocked') => {
    const account = session.signedIn()
    return contactChanged(account, (await online(account.patchContact(userId, status))).contact)
  }
  return {
    'contacts.list': async () => session.signedIn().contacts.list(),
    'contacts.add': async ({ username }) => {
      const account = session.signedIn()
      return contactChanged(account, (await online(account.addContact(username))).contact)
    },
    'contacts.accept': async ({ userId }) => patch(userId, 'accepted'),
    'contacts.block': async ({ userId }) => patch(userId, 'blocked'),
    'contacts.remove': async ({ userId }) => {
      const account = session.signedIn()
      await online(account.removeContact(userId))
      account.contacts.remove(userId)
      core.emit('contacts.changed', { contacts: account.contacts.list() })
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
