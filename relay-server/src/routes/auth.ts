import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'

export async function authRoutes(app: FastifyInstance, options: { authPerMinute: number }) {
  const { auth } = app.services
  const rateLimit = { max: options.authPerMinute, timeWindow: 60_000 }
  defineRoute(app, routes.register, ({ body, raw }) => auth.register(body, raw.ip), { rateLimit })
  defineRoute(app, routes.login, ({ body, raw }) => auth.login(body, raw.ip), { rateLimit })
  defineRoute(app, routes.logout, async ({ principal }) => {
    await auth.logout(principal)
    return undefined
  })
  defineRoute(app, routes.session, ({ principal }) => auth.session(principal))
}
