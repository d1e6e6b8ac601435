/** The relay's own test helpers, for the desktop suites: one place they import the relay from. */
export { http } from '../../../relay-server/test/helpers/client'
export { startRelay, type TestRelay } from '../../../relay-server/test/helpers/relay'
