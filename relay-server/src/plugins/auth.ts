import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../errors'
import type { Principal } from '../services/auth'

declare module 'fastify' {
  interface FastifyInstance {
    /** The onRequest hook of every route that needs a bearer token. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

export function bearerToken(header: string | undefined): string | null {
  const match = header?.match(/^Bearer ([A-Za-z0-9_-]+)$/)
  return match?.[1] ?? null
}

export const auth = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('principal', null)
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const token = bearerToken(request.headers.authorization)
      if (!token) throw new AppError('unauthorized', 'Sign in first: send Authorization: Bearer <token>')
      const principal = await app.services.auth.authenticate(token, request.ip)
      if (!principal)
        throw new AppError('unauthorized', 'The token is unknown, revoked or expired; sign in again')
      request.principal = principal
    })
  },
  { name: 'auth', dependencies: ['services'] },
)
