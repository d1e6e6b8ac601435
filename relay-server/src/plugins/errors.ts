import { type ErrorCode, errorCodes } from '@parley/shared'
import type { FastifyError, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { isAppError } from '../errors'

const BY_FASTIFY_CODE: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
}

const POSTGRES_BAD_TEXT = new Set(['22021', '22P05'])

const BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
}

/**
 * Every error leaves as `{error: {code, message}}`. Client mistakes keep their 4xx and a clear
 * message; anything else is logged with its request and answered with a bare 500.
 */
export const errorHandling = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (isAppError(error)) {
        if (error.retryAfterSeconds !== undefined)
          reply.header('retry-after', String(error.retryAfterSeconds))
        return reply.status(error.status).send({ error: { code: error.code, message: error.message } })
      }
      if (error.validation) {
        const where = error.validationContext ?? 'request'
        const first = error.validation[0]
        const path = first?.instancePath ? first.instancePath.replaceAll('/', '.') : ''
        const detail =
          first?.keyword === 'additionalProperties'
            ? `has an unknown field '${(first.params as { additionalProperty: string }).additionalProperty}'`
            : first?.keyword === 'required'
              ? `is missing '${(first.params as { missingProperty: string }).missingProperty}'`
              : (first?.message ?? 'is invalid')
        return reply
          .status(400)
          .send({ error: { code: 'validation_failed', message: `${where}${path} ${detail}` } })
      }
      // A backstop behind the schemas: text PostgreSQL cannot store is the client's mistake.
      if (POSTGRES_BAD_TEXT.has(String(error.code))) {
        return reply.status(400).send({
          error: {
            code: 'validation_failed',
            message: 'The text contains characters that cannot be stored',
          },
        })
      }
      const status = error.statusCode ?? 500
      if (status >= 400 && status < 500) {
        const code =
          BY_FASTIFY_CODE[error.code] ??
          (error instanceof SyntaxError ? 'invalid_json' : BY_STATUS[status]) ??
          'validation_failed'
        return reply.status(errorCodes[code].status).send({ error: { code, message: error.message } })
      }
      request.log.error({ err: error, url: request.url, method: request.method }, 'request failed')
      return reply
        .status(500)
        .send({ error: { code: 'internal_error', message: 'Something went wrong on the relay' } })
    })

    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send({
        error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` },
      }),
    )
  },
  { name: 'error-handling' },
)
