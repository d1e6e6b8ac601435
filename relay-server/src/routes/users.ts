import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'
import { perUserLimit } from './user-limit'

export async function userRoutes(
  app: FastifyInstance,
  options: { searchesPerMinute: number; redisKeyPrefix: string },
) {
  const { users } = app.services
  const searchLimit = perUserLimit(app, {
    name: 'user-searches',
    points: options.searchesPerMinute,
    seconds: 60,
    redisKeyPrefix: options.redisKeyPrefix,
    what: 'searches',
  })
  defineRoute(
    app,
    routes.searchUsers,
    async ({ query }) => ({ users: await users.search(query.q, query.limit ?? 20) }),
    { onRequest: searchLimit },
  )
  defineRoute(app, routes.getUser, async ({ principal, params }) => ({
    user: await users.profile(principal.userId, params.id),
  }))
  defineRoute(app, routes.patchUser, async ({ principal, params, body }) => ({
    user: await users.patch(principal.userId, params.id, body),
  }))
}
