import { defaultSettings } from '@parley/shared'
import type { Core, Handlers } from './context'

/** The account's settings (the defaults while signed out). */
export function settingsHandlers(core: Core): Handlers<'settings.get' | 'settings.set'> {
  const { session } = core
  return {
    'settings.get': async () => session.account?.settings.get() ?? { ...defaultSettings },
    'settings.set': async (changes) => {
      const settings = session.signedIn().settings.set(changes)
      core.emit('settings.changed', settings)
      return settings
    },
  }
}
