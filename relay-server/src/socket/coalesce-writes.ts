/** The parts of engine.io's transport this reaches into: `send`, and for WebSocket, ws's TCP socket. */
interface Transport {
  name: string
  send(packets: unknown[]): void
  socket?: { _socket?: { cork(): void; uncork(): void } }
}

/** Whether the WebSocket transport's class is patched (one class serves every socket). */
let patched = false

/**
 * Packets that wait for a socket (while its previous write is in flight) go to the WebSocket
 * transport together, in one `send`; ws writes each as its own frame, one system call each. With
 * a group's room of 1,000 sockets and several messages committed in one batch, those calls were
 * most of the relay's CPU (`npm run bench:groups`). Corking the TCP socket for the loop turns them
 * into one write per socket; the bytes on the wire are the same.
 *
 * The WebSocket transport's class is patched once, on its prototype, when the first one is seen:
 * a per-socket wrapper cost every idle socket a closure and a bound function.
 */
function coalesceWebSocketWrites(transport: Transport): void {
  if (patched || transport.name !== 'websocket') return
  const proto = Object.getPrototypeOf(transport) as Transport | null
  if (!proto || typeof proto.send !== 'function') return
  patched = true
  const send = proto.send
  proto.send = function (this: Transport, packets: unknown[]) {
    const tcp = this.socket?._socket
    if (packets.length < 2 || !tcp) return send.call(this, packets)
    tcp.cork()
    try {
      send.call(this, packets)
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

/** For an engine.io connection, now or after an upgrade from polling to WebSocket (until patched). */
export function coalesceWritesOf(socket: EngineSocket): void {
  if (patched) return
  coalesceWebSocketWrites(socket.transport as Transport)
  if (!patched) socket.on('upgrade', upgraded)
}

function upgraded(transport: unknown): void {
  coalesceWebSocketWrites(transport as Transport)
}
