import { defaultSettings } from '@parley/shared'
import { saveSettings, settingsOf } from '../db/tables/settings'
import type { Core, Handlers } from './context'

/** The account's settings (the defaults while signed out). */
export function settingsHandlers(core: Core): Handlers<'settings.get' | 'settings.set'> {
  const { session } = core
  return {
    'settings.get': async () => (session.account ? settingsOf(session.account.db) : { ...defaultSettings }),
    'settings.set': async (changes) => {
      const settings = saveSettings(session.signedIn().db, changes)
      core.emit('settings.changed', settings)
      return settings
    },
  }
}
