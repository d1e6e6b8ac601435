import multipart from '@fastify/multipart'
import { MAX_IMAGE_BYTES, routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors'
import { defineRoute } from './define'
import { readOneFile, uploadGuard } from './uploads'

export async function imageRoutes(app: FastifyInstance) {
  const { images } = app.services
  await app.register(multipart, {
    limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 0, parts: 2, headerPairs: 50 },
  })

  defineRoute(
    app,
    routes.uploadImage,
    async ({ principal, raw: request }) => {
      const bytes = await readOneFile(request, {
        what: 'image',
        tooLarge,
        // toBuffer() can miss the limit when the last chunk is the one that crosses it: readOneFile checks.
        take: (part) => part.toBuffer(),
      })
      return { image: await images.upload(principal.userId, bytes) }
    },
    {
      onRequest: uploadGuard({
        maxBytes: MAX_IMAGE_BYTES,
        tooLarge,
        begin: (userId) => images.beginUpload(userId),
      }),
    },
  )

  defineRoute(app, routes.getImage, async ({ principal, params, query, raw: request }, reply) => {
    const image = await images.open(principal.userId, params.id, query.size ?? 'original')
    reply
      .header('content-type', image.mime)
      .header('content-disposition', 'inline')
      .header('etag', image.etag)
      // Private: access depends on who asks. Immutable: an id and size always mean the same bytes.
      .header('cache-control', 'private, max-age=31536000, immutable')
    if (request.headers['if-none-match'] === image.etag) {
      image.stream.destroy()
      reply.code(304)
      return reply.send()
    }
    reply.header('content-length', image.size)
    return reply.send(image.stream)
  })
}

const tooLarge = () =>
  new AppError('image_too_large', `Images may be at most ${MAX_IMAGE_BYTES / 1024 / 1024} MB`)
