import type { IncomingMessage } from 'node:http'
import { isIPv6 } from 'node:net'
import proxyAddr from '@fastify/proxy-addr'
import type { TrustProxy } from './config'

/** Whether to believe the `hop`-th address back (0 = the peer of the socket) when it forwards. */
export type TrustFunction = (address: string, hop: number) => boolean

/**
 * TRUST_PROXY as a function, for Fastify and for Socket.IO handshakes alike. A hop count is a
 * function too: Fastify itself reads a bare number as "trust nobody".
 */
export function trustFunction(trust: TrustProxy): TrustFunction {
  if (trust === false) return () => false
  if (typeof trust === 'number') return (_address, hop) => hop < trust
  return proxyAddr.compile(trust)
}

/** The client's address of a raw request (a Socket.IO handshake), as Fastify derives `request.ip`. */
export function clientAddress(request: IncomingMessage, trust: TrustFunction): string {
  return proxyAddr.all(request, trust).at(-1) ?? ''
}

/** An address as people read it: an IPv4 client of a dual-stack socket without its `::ffff:`. */
export function displayAddress(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip)
  return mapped ? mapped[1]! : ip
}

/**
 * What sign-in failures from an address are counted under: IPv4 as it is, IPv6 by its /64, since a
 * household or a phone is given a /64 and picks new addresses inside it at will.
 */
export function addressKey(ip: string): string {
  const address = displayAddress(ip)
  if (!isIPv6(address)) return address
  const [head = '', tail] = address.split('%')[0]!.split('::')
  const groups = (part: string | undefined) => (part ? part.split(':') : [])
  const width = (list: string[]) => list.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0)
  const front = groups(head)
  const back = groups(tail)
  const zeros = tail === undefined ? [] : Array(8 - width(front) - width(back)).fill('0')
  const prefix = [...front, ...zeros, ...back].slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16))
  return `${prefix.join(':')}::/64`
}
