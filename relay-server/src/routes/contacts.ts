import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'
import { perUserLimit } from './user-limit'

export async function contactRoutes(
  app: FastifyInstance,
  options: { contactRequestsPerHour: number; redisKeyPrefix: string },
) {
  const { contacts } = app.services
  const requestLimit = perUserLimit(app, {
    name: 'contact-requests',
    points: options.contactRequestsPerHour,
    seconds: 3600,
    redisKeyPrefix: options.redisKeyPrefix,
    what: 'contact requests',
  })
  defineRoute(app, routes.listContacts, async ({ principal }) => ({
    contacts: await contacts.list(principal.userId),
  }))
  defineRoute(
    app,
    routes.addContact,
    async ({ principal, body }) => ({ contact: await contacts.request(principal.userId, body.username) }),
    { onRequest: requestLimit },
  )
  defineRoute(app, routes.patchContact, async ({ principal, params, body }) => ({
    contact: await contacts.setStatus(principal.userId, params.id, body.status),
  }))
  defineRoute(app, routes.removeContact, async ({ principal, params }) => {
    await contacts.remove(principal.userId, params.id)
    return undefined
  })
}
