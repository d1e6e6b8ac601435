/** The parts of engine.io's transport this reaches into: `send`, and for WebSocket, ws's TCP socket. */
interface Transport {
  name: string
  send(packets: unknown[]): void
  socket?: { _socket?: { cork(): void; uncork(): void } }
}

const patched = new WeakSet<object>()

/**
 * Packets that wait for a socket (while its previous write is in flight) go to the WebSocket
 * transport together, in one `send`; ws writes each as its own frame, one system call each. With
 * a group's room of 1,000 sockets and several messages committed in one batch, those calls were
 * most of the relay's CPU (`npm run bench:groups`). Corking the TCP socket for the loop turns them
 * into one write per socket; the bytes on the wire are the same.
 */
export function coalesceWebSocketWrites(transport: Transport): void {
  if (transport.name !== 'websocket' || patched.has(transport)) return
  patched.add(transport)
  const send = transport.send.bind(transport)
  transport.send = (packets) => {
    const tcp = transport.socket?._socket
    if (packets.length < 2 || !tcp) return send(packets)
    tcp.cork()
    try {
      send(packets)
    } finally {
      tcp.uncork()
    }
  }
}

/** An engine.io connection (`io.engine`'s 'connection'), as far as this needs it. */
interface EngineSocket {
  transport: unknown
  on(event: 'upgrade', listener: (transport: unknown) => void): unknown
}

/** For an engine.io connection, now and after an upgrade from polling to WebSocket. */
export function coalesceWritesOf(socket: EngineSocket): void {
  coalesceWebSocketWrites(socket.transport as Transport)
  socket.on('upgrade', (transport) => coalesceWebSocketWrites(transport as Transport))
}
