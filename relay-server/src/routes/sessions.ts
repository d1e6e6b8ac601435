import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'

export async function sessionRoutes(app: FastifyInstance) {
  const { auth } = app.services
  defineRoute(app, routes.changePassword, async ({ principal, body }) => {
    await auth.changePassword(principal, body)
    return undefined
  })
  defineRoute(app, routes.listSessions, async ({ principal }) => ({
    sessions: await auth.listSessions(principal),
  }))
  defineRoute(app, routes.endSession, async ({ principal, params }) => {
    await auth.endSession(principal, params.id)
    return undefined
  })
  defineRoute(app, routes.endOtherSessions, async ({ principal }) => {
    await auth.endOtherSessions(principal)
    return undefined
  })
}
