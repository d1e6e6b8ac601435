import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { defineRoute } from './define'

export async function groupRoutes(app: FastifyInstance) {
  const { groups } = app.services
  defineRoute(app, routes.createGroup, ({ principal, body }) => groups.create(principal.userId, body))
  defineRoute(app, routes.listGroups, ({ principal }) => groups.list(principal.userId))
  defineRoute(app, routes.getGroup, async ({ principal, params }) => ({
    group: await groups.get(principal.userId, params.id),
    seq: null,
  }))
  defineRoute(app, routes.patchGroup, ({ principal, params, body }) =>
    groups.patch(principal.userId, params.id, body),
  )
  defineRoute(app, routes.deleteGroup, ({ principal, params }) =>
    groups.deleteGroup(principal.userId, params.id),
  )
  defineRoute(app, routes.groupEvents, ({ principal, params, query }) =>
    groups.events(principal.userId, params.id, query),
  )
  defineRoute(app, routes.addGroupMembers, ({ principal, params, body }) =>
    groups.addMembers(principal.userId, params.id, body.userIds),
  )
  defineRoute(app, routes.removeGroupMember, ({ principal, params }) =>
    groups.removeMember(principal.userId, params.id, params.userId),
  )
  defineRoute(app, routes.patchGroupMember, ({ principal, params, body }) =>
    groups.patchMember(principal.userId, params.id, params.userId, body.role),
  )
  defineRoute(app, routes.createGroupInvite, async ({ principal, params, body }) => ({
    invite: await groups.createInvite(principal.userId, params.id, body),
  }))
  defineRoute(app, routes.listGroupInvites, async ({ principal, params }) => ({
    invites: await groups.listInvites(principal.userId, params.id),
  }))
  defineRoute(app, routes.revokeGroupInvite, async ({ principal, params }) => {
    await groups.revokeInvite(principal.userId, params.id, params.code)
    return undefined
  })
  defineRoute(app, routes.previewInvite, async ({ params }) => ({ group: await groups.preview(params.code) }))
  defineRoute(app, routes.joinWithInvite, ({ principal, params }) =>
    groups.join(principal.userId, params.code),
  )
  defineRoute(app, routes.messageReceipts, ({ principal, params }) =>
    groups.messageReceipts(principal.userId, params.id),
  )
}
