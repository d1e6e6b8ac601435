import net from 'node:net'

/**
 * A TCP proxy in front of a relay, so a test can play the network: cut every connection, refuse
 * new ones, swallow what the relay answers, or point at a relay restarted on another port while
 * the core keeps the same address.
 */
export interface TestProxy {
  url: string
  port: number
  /** Where connections go from now on. */
  setTarget(port: number): void
  /** Refuse new connections and cut the open ones (the network is down). */
  goOffline(): void
  goOnline(): void
  /** Keep connections up but drop everything the relay sends (acks and events are lost). */
  swallowReplies(on: boolean): void
  /** Cut every open connection (they may reconnect at once). */
  cutAll(): void
  close(): Promise<void>
}

export async function startProxy(targetPort: number): Promise<TestProxy> {
  let target = targetPort
  let offline = false
  let swallow = false
  const pairs = new Set<[net.Socket, net.Socket]>()
  const server = net.createServer((client) => {
    if (offline) {
      client.destroy()
      return
    }
    const upstream = net.connect(target, '127.0.0.1')
    const pair: [net.Socket, net.Socket] = [client, upstream]
    pairs.add(pair)
    client.on('data', (chunk) => upstream.write(chunk))
    upstream.on('data', (chunk) => {
      if (!swallow) client.write(chunk)
    })
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as net.AddressInfo
  const cutAll = () => {
    for (const [client, upstream] of pairs) {
      client.destroy()
      upstream.destroy()
    }
    pairs.clear()
  }
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    setTarget: (port) => {
      target = port
    },
    goOffline: () => {
      offline = true
      cutAll()
    },
    goOnline: () => {
      offline = false
    },
    swallowReplies: (on) => {
      swallow = on
    },
    cutAll,
    close: async () => {
      cutAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
