import type { Contact, ContactView, Settings } from '@parley/shared'
import { deleteContact, upsertContact } from '../db/tables/contacts'
import { saveSettings, settingsOf } from '../db/tables/settings'
import { contactView, contactViews } from '../db/views/contacts'
import { refuse } from '../refusal'
import { AccountActions } from './base'

/** One account's contacts as this device keeps them (the relay decides; this stores what it said). */
export class ContactActions extends AccountActions {
  list(): ContactView[] {
    return contactViews(this.db)
  }

  /** Stores a contact the relay returned and gives its view. */
  save(contact: Contact): ContactView {
    upsertContact(this.db, contact)
    return contactView(this.db, contact.user.id) ?? refuse('internal', 'The contact was not stored')
  }

  remove(userId: number): void {
    deleteContact(this.db, userId)
  }
}

/** One account's settings on this device. */
export class SettingsActions extends AccountActions {
  get(): Settings {
    return settingsOf(this.db)
  }

  /** Changes some settings; returns them all. */
  set(changes: Partial<Settings>): Settings {
    return saveSettings(this.db, changes)
  }
}
