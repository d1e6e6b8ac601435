import type { ClientToServerEvents, ServerToClientEvents } from '@parley/shared'
import { io, type Socket } from 'socket.io-client'

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>

/**
 * A socket of the bench process itself (not a load worker's), connected over WebSocket with
 * `token`, and added to `held` so the run guard closes it whatever way the bench ends.
 */
export async function connectSocket(
  url: string,
  token: string,
  held: { close(): void }[],
): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  })
  held.push(socket)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timeout')), 30_000)
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve()
    })
    socket.once('connect_error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
  return socket
}
