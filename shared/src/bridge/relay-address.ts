/** WHATWG URL, present in Node and browsers alike (shared/ builds without either's typings). */
declare const URL: new (input: string) => { protocol: string; hostname: string }

/**
 * Whether a relay address sends passwords and messages across a network in clear: `http:` to a
 * host other than this computer's loopback (`localhost`, `*.localhost`, 127.0.0.0/8, `::1`).
 * Signing in or registering there needs the user's explicit consent (`insecureRelayConfirmed`;
 * the core's refusal without it is `insecure_relay`). An address that does not parse is not
 * judged here (the schema refuses it).
 */
export function isCleartextRemoteRelay(relayUrl: string): boolean {
  let url: { protocol: string; hostname: string }
  try {
    url = new URL(relayUrl)
  } catch {
    return false
  }
  if (url.protocol !== 'http:') return false
  return !isLoopbackHost(url.hostname)
}

/** A URL's `hostname` that names this computer (IPv6 hostnames come bracketed). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  if (host === '[::1]') return true
  // IPv4-mapped loopback, as URL writes it: [::ffff:7f00:1].
  if (/^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host)) return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
