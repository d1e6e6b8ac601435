import { randomBytes } from 'node:crypto'

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * Letters and digits only: a code or password read aloud, typed on a phone or passed on a
 * command line must not begin with '-' (which `parley-relay admin invite revoke` once took
 * for an option) nor hold '_' that fonts blur. Rejection sampling keeps every character
 * equally likely; 22 characters of 62 carry about 131 bits.
 */
export function randomAlphanumeric(length: number): string {
  let text = ''
  while (text.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && text.length < length) text += ALPHANUMERIC[byte % 62]
    }
  }
  return text
}
