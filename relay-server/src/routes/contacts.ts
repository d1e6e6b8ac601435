import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'

export async function contactRoutes(app: FastifyInstance) {
  const { contacts } = app.services
  defineRoute(app, routes.listContacts, async ({ principal }) => ({
    contacts: await contacts.list(principal.userId),
  }))
  defineRoute(app, routes.addContact, async ({ principal, body }) => ({
    contact: await contacts.request(principal.userId, body.username),
  }))
  defineRoute(app, routes.patchContact, async ({ principal, params, body }) => ({
    contact: await contacts.setStatus(principal.userId, params.id, body.status),
  }))
  defineRoute(app, routes.removeContact, async ({ principal, params }) => {
    await contacts.remove(principal.userId, params.id)
    return undefined
  })
}
