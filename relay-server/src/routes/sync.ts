import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { readSnapshot, syncPage } from '../services/sync'
import { defineRoute } from './define'

export async function syncRoutes(app: FastifyInstance) {
  defineRoute(app, routes.sync, ({ principal, query }) => syncPage(app.db, principal.userId, query))
  defineRoute(app, routes.syncSnapshot, ({ principal, query }) =>
    readSnapshot(app.dbReader(), principal.userId, query),
  )
}
