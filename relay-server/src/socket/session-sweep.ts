import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Every `intervalMs`, disconnects this relay's sockets whose session no longer exists. Sessions
 * ended through the API disconnect their sockets at once (Realtime.disconnectSession); this catches
 * those ended from outside the relay, by `parley-relay admin` (a password reset, a deactivation),
 * which cannot reach a running relay's sockets.
 */
export const sessionSweep = fp(
  async (app: FastifyInstance, options: { intervalMs: number }) => {
    let running = false
    const sweep = async () => {
      if (running) return
      running = true
      try {
        const sockets = await app.io.local.fetchSockets()
        const ids = [...new Set(sockets.map((socket) => socket.data.sessionId))]
        if (ids.length === 0) return
        const live = new Set<number>()
        // In chunks, to stay under the dialects' limits on bound parameters.
        for (let i = 0; i < ids.length; i += 500) {
          const rows = await app.db
            .selectFrom('sessions')
            .select('id')
            .where('id', 'in', ids.slice(i, i + 500))
            .execute()
          for (const row of rows) live.add(row.id)
        }
        for (const socket of sockets) {
          if (live.has(socket.data.sessionId)) continue
          socket.emit('session_ended', { reason: 'signed_out' })
          socket.disconnect(true)
        }
      } catch (err) {
        app.log.warn({ err }, 'session sweep failed')
      } finally {
        running = false
      }
    }
    const timer = setInterval(() => void sweep(), options.intervalMs).unref()
    app.addHook('preClose', async () => clearInterval(timer))
  },
  { name: 'session-sweep', dependencies: ['database', 'realtime'] },
)
