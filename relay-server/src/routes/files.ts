import multipart from '@fastify/multipart'
import { routes } from '@parley/shared'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors'
import { attachmentDisposition } from '../files/names'
import { fileEtag } from '../services/files'
import { defineRoute } from './define'
import { readOneFile, uploadGuard } from './uploads'

/**
 * Files are served as downloads and nothing else: `application/octet-stream` whatever was
 * declared, an attachment disposition with the (sanitized) name, no sniffing, and a sandboxing CSP,
 * so neither a browser nor a client's web view ever renders one as a page of the relay's origin.
 */
const DOWNLOAD_HEADERS = {
  'content-type': 'application/octet-stream',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "sandbox; default-src 'none'",
  'accept-ranges': 'bytes',
  // Private: access depends on who asks. Immutable: an id always names the same bytes.
  'cache-control': 'private, max-age=31536000, immutable',
}

export async function fileRoutes(app: FastifyInstance) {
  const { files } = app.services
  const maxBytes = files.maxFileBytes
  const tooLarge = () =>
    new AppError('file_too_large', `Files may be at most ${maxBytes} bytes (${describeBytes(maxBytes)})`)
  await app.register(multipart, {
    limits: { fileSize: maxBytes, files: 1, fields: 0, parts: 2, headerPairs: 50 },
  })

  defineRoute(
    app,
    routes.uploadFile,
    async ({ principal, raw: request }) => {
      let meta: { name: string; type: string } = { name: '', type: '' }
      const staged = await readOneFile(request, {
        what: 'file',
        tooLarge,
        take: (part) => {
          meta = { name: part.filename, type: part.mimetype }
          return files.stage(part.file)
        },
        discard: (blob) => blob.discard(),
      })
      return { file: await files.save(principal.userId, staged, meta) }
    },
    {
      onRequest: uploadGuard({
        maxBytes,
        tooLarge,
        begin: (userId) => files.beginUpload(userId),
        // A declared body that cannot fit in what is left of the quota is refused before it is read.
        check: (userId, declaredBytes) => files.requireRoom(userId, declaredBytes),
      }),
    },
  )

  defineRoute(app, routes.getFile, async ({ principal, params, raw: request }, reply) => {
    const etag = fileEtag(params.id)
    // A Range for other bytes than these (If-Range names another version) is ignored: all of it comes.
    const ifRange = request.headers['if-range']
    const range = ifRange === undefined || ifRange === etag ? request.headers.range : undefined
    const file = await files.open(principal.userId, params.id, range)
    if (file.kind === 'unsatisfiable') {
      reply.header('content-range', `bytes */${file.size}`)
      throw new AppError(
        'range_not_satisfiable',
        `The file has ${file.size} bytes; that range lies outside it`,
      )
    }
    reply.headers(DOWNLOAD_HEADERS).header('etag', etag)
    reply.header('content-disposition', attachmentDisposition(file.name))
    if (request.headers['if-none-match'] === etag) {
      file.stream.destroy()
      return reply.code(304).send()
    }
    if (file.range) {
      reply
        .code(206)
        .header('content-range', `bytes ${file.range.start}-${file.range.end}/${file.size}`)
        .header('content-length', file.range.end - file.range.start + 1)
    } else reply.header('content-length', file.size)
    return reply.send(file.stream)
  })
}

function describeBytes(bytes: number): string {
  const mib = bytes / 1024 / 1024
  return mib >= 1 ? `${Math.floor(mib)} MB` : `${Math.ceil(bytes / 1024)} kB`
}
