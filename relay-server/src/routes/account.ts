import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'

export async function accountRoutes(app: FastifyInstance) {
  const { account } = app.services
  defineRoute(app, routes.eraseAccount, async ({ principal, body }) => {
    await account.eraseOwn(principal, body.password)
    return undefined
  })
}
