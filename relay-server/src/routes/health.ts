import { MAX_IMAGE_BYTES, routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { RELAY_VERSION } from '../version'
import { defineRoute } from './define'

export async function healthRoutes(app: FastifyInstance) {
  defineRoute(app, routes.health, async () => ({
    status: 'ok' as const,
    version: RELAY_VERSION,
    time: Date.now(),
    maxFileBytes: app.services.files.maxFileBytes,
    maxImageBytes: MAX_IMAGE_BYTES,
  }))
}
