/** Host names of the machine itself: health checks, admin tools, and proxies that send their upstream's name. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * Whether a request's Host header may reach this relay: with a public address configured, only
 * its host (with or without its default port) or a loopback name. Anything else was meant for
 * another site, or is a DNS-rebinding page that pointed its own name at the relay.
 */
export function hostChecker(publicUrl: string | undefined): ((host: string | undefined) => boolean) | null {
  if (!publicUrl) return null
  const url = new URL(publicUrl)
  const defaultPort = url.protocol === 'https:' ? '443' : '80'
  const allowed = new Set([url.host, `${url.hostname}:${url.port || defaultPort}`])
  return (host) => {
    if (!host) return false
    const name = host.toLowerCase()
    return allowed.has(name) || LOOPBACK_NAMES.has(name.replace(/:\d+$/, ''))
  }
}
