import multipart from '@fastify/multipart'
import { MAX_IMAGE_BYTES, routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors'
import { defineRoute } from './define'

/** Room for the multipart envelope around a file of the largest size. */
const ENVELOPE_BYTES = 64 * 1024

export async function imageRoutes(app: FastifyInstance) {
  const { images } = app.services
  await app.register(multipart, {
    limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 0, parts: 2, headerPairs: 50 },
  })

  defineRoute(
    app,
    routes.uploadImage,
    async ({ principal, raw: request }) => {
      if (!request.isMultipart()) {
        throw new AppError(
          'unsupported_media_type',
          'Send the image as multipart/form-data with a field named file',
        )
      }
      // Read the whole body, closing boundary included: a request left half-read keeps its
      // connection busy, and the one file part is all there may be.
      let bytes: Buffer | undefined
      try {
        for await (const part of request.parts()) {
          if (part.type !== 'file' || part.fieldname !== 'file' || bytes) {
            throw new AppError('validation_failed', 'The upload needs exactly one part, a file named file')
          }
          bytes = await part.toBuffer()
          // toBuffer() can miss the limit when the last chunk is the one that crosses it.
          if (part.file.truncated) throw tooLarge()
        }
      } catch (error) {
        translateMultipartError(error)
      }
      if (!bytes) throw new AppError('validation_failed', 'The upload needs one part, a file named file')
      return { image: await images.upload(principal.userId, bytes) }
    },
    {
      // A declared length beyond the limit is refused before any of the body is read, and so is
      // an upload beyond the user's concurrent ones; an accepted one counts until its reply is done
      // (or its connection drops).
      onRequest: async (request, reply) => {
        const declared = Number(request.headers['content-length'] ?? 0)
        if (declared > MAX_IMAGE_BYTES + ENVELOPE_BYTES) throw tooLarge()
        const userId = request.principal?.userId
        if (userId === undefined) return
        const release = images.beginUpload(userId)
        reply.raw.once('close', release)
      },
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

function translateMultipartError(error: unknown): never {
  if (error instanceof AppError) throw error
  const code = (error as { code?: string }).code
  if (code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge()
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    throw new AppError('unsupported_media_type', 'Send the image as multipart/form-data')
  }
  if (typeof code === 'string' && code.startsWith('FST_')) {
    throw new AppError('validation_failed', (error as Error).message)
  }
  // The client went away or the body was cut short: nothing was stored.
  throw new AppError('validation_failed', 'The upload was cut off before it ended')
}
