import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'

declare module 'fastify' {
  interface FastifyInstance {
    /** Present when REDIS_URL is set: shared rate limits and the Socket.IO adapter use it. */
    redis: Redis | null
  }
}

export const redis = fp(
  async (app: FastifyInstance, options: { redisUrl: string | undefined }) => {
    if (!options.redisUrl) {
      app.decorate('redis', null)
      return
    }
    // ioredis loads only when a Redis is configured (about 20 MB of an idle relay otherwise).
    const { Redis } = await import('ioredis')
    const client = new Redis(options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 })
    await client.connect()
    app.decorate('redis', client)
    app.addHook('onClose', async () => {
      await client.quit().catch(() => client.disconnect())
    })
  },
  { name: 'redis' },
)
