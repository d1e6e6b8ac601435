import type { RouteSpec } from '@parley/shared'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type Type from 'typebox'
import type { Principal } from '../services/auth'
import { serializerFor } from './serialization'

type StaticOf<S> = S extends Type.TSchema ? Type.Static<S> : undefined

export interface RouteRequest<R extends RouteSpec> {
  body: StaticOf<R['body']>
  query: StaticOf<R['querystring']>
  params: StaticOf<R['params']>
  principal: R['auth'] extends true ? Principal : null
  raw: FastifyRequest
}

type Result<R extends RouteSpec> = R['produces'] extends 'image' | 'file' | 'zip'
  ? FastifyReply
  : R['response'] extends Type.TSchema
    ? Type.Static<R['response']>
    : undefined

/**
 * Registers a route from the shared table: its schemas validate the input and serialize the
 * output (fields not in the response schema never leave), and `auth` adds the token check.
 */
export function defineRoute<R extends RouteSpec>(
  app: FastifyInstance,
  spec: R,
  handler: (request: RouteRequest<R>, reply: FastifyReply) => Promise<Result<R>>,
  options: {
    rateLimit?: { max: number; timeWindow: number }
    /** Runs after the token check, before the body is read. */
    onRequest?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  } = {},
): void {
  const onRequest = [
    ...(spec.auth ? [app.authenticate] : []),
    ...(options.onRequest ? [options.onRequest] : []),
  ]
  app.route({
    method: spec.method,
    url: spec.url,
    schema: {
      ...(spec.body && { body: spec.body }),
      ...(spec.querystring && { querystring: spec.querystring }),
      ...(spec.params && { params: spec.params }),
      ...(spec.response && { response: { [spec.status]: spec.response } }),
    },
    // Built when the route is registered, and never compiling a validator on a request.
    ...(spec.response && { serializerCompiler: ({ schema }: { schema: unknown }) => serializerFor(schema) }),
    ...(onRequest.length > 0 && { onRequest }),
    ...(options.rateLimit && { config: { rateLimit: options.rateLimit } }),
    handler: async (request, reply) => {
      const value = await handler(
        {
          body: request.body as StaticOf<R['body']>,
          query: request.query as StaticOf<R['querystring']>,
          params: request.params as StaticOf<R['params']>,
          principal: request.principal as RouteRequest<R>['principal'],
          raw: request,
        },
        reply,
      )
      // An image, file or zip route has written its own reply (status, headers, stream).
      if (spec.produces) return value
      reply.status(spec.status)
      return spec.response ? value : reply.send()
    },
  })
}
