import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'

export async function accountRoutes(app: FastifyInstance) {
  const { account, exports } = app.services
  defineRoute(app, routes.eraseAccount, async ({ principal, body }) => {
    await account.eraseOwn(principal, body.password)
    return undefined
  })
  defineRoute(app, routes.exportAccount, async ({ principal }, reply) => {
    const { stream, filename, done } = await exports.start(principal.userId)
    // The export counts as running until the download ends, completed or cut off.
    reply.raw.once('close', done)
    stream.once('error', done)
    return reply
      .header('content-type', 'application/zip')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('cache-control', 'no-store')
      .send(stream)
  })
}
