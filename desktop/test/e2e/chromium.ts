/**
 * Debian's Chromium, driven by playwright-core (which downloads no browser of its own), for the
 * browser scenarios, the UI bench and the test summary alike.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Headless, and nothing that reaches the network or updates itself behind the test's back. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
