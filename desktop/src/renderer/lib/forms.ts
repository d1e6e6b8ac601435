import { USERNAME_PATTERN } from '@parley/shared/limits'

const username = new RegExp(USERNAME_PATTERN)

/** The relay's own rule for usernames, checked before it is asked. */
export function isUsername(value: string): boolean {
  return username.test(value)
}

/** Something@somewhere.tld: the relay checks the rest. */
export function looksLikeEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.trim())
}
