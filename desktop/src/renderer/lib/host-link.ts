/**
 * The link to the host: `up`; `lost` (it stopped, or cannot be reached: the page reconnects by
 * itself when it is back); `refused` (it runs, but was restarted with another token, so this
 * address no longer opens it: only the address it printed will).
 */
export type HostLink = 'up' | 'lost' | 'refused'

/** What the page says when the host refuses its token (the host answers `token_refused`). */
export const HOST_REFUSED_TEXT = 'Parley was restarted with a new address. Open the address it printed.'
