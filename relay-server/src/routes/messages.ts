import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'

export async function messageRoutes(app: FastifyInstance) {
  const { messages } = app.services
  defineRoute(app, routes.messagePage, ({ principal, query }) => messages.page(principal.userId, query))
  defineRoute(app, routes.sendMessage, ({ principal, body }) => messages.send(principal.userId, body))
  defineRoute(app, routes.editMessage, ({ principal, params, body }) =>
    messages.edit(principal.userId, params.id, body.text),
  )
  defineRoute(app, routes.deleteMessage, ({ principal, params }) =>
    messages.delete(principal.userId, params.id),
  )
  defineRoute(app, routes.hideMessage, ({ principal, params }) => messages.hide(principal.userId, params.id))
  defineRoute(app, routes.messageHistory, ({ principal, params }) =>
    messages.history(principal.userId, params.id),
  )
}
