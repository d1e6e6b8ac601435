import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'

export async function userRoutes(app: FastifyInstance) {
  const { users } = app.services
  defineRoute(app, routes.searchUsers, async ({ query }) => ({
    users: await users.search(query.q, query.limit ?? 20),
  }))
  defineRoute(app, routes.getUser, async ({ principal, params }) => ({
    user: await users.profile(principal.userId, params.id),
  }))
  defineRoute(app, routes.patchUser, async ({ principal, params, body }) => ({
    user: await users.patch(principal.userId, params.id, body),
  }))
}
