import { searchMessages } from '../db/search'
import type { Core, Handlers } from './context'

/** Full-text search over the messages on this device. */
export function searchHandlers(core: Core): Handlers<'search.query'> {
  return {
    'search.query': async ({ q, peerId, limit, offset }) => {
      const account = core.session.signedIn()
      return searchMessages(account.db, account.me, { q, peerId, limit: limit ?? 20, offset: offset ?? 0 })
    },
  }
}
