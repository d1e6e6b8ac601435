import type { Core, Handlers } from './context'

/** Full-text search over the messages on this device. */
export function searchHandlers(core: Core): Handlers<'search.query'> {
  return {
    'search.query': async ({ q, conversation, limit, offset }) =>
      core.session.signedIn().messages.search({ q, conversation, limit: limit ?? 20, offset: offset ?? 0 }),
  }
}
