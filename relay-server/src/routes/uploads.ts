import type { MultipartFile } from '@fastify/multipart'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../errors'

/** Room for the multipart envelope (boundaries, part headers) around a file of the largest size. */
export const ENVELOPE_BYTES = 64 * 1024

/**
 * Reads a multipart upload of exactly one part, a file named `file`, handing its stream to `take`
 * and reading the body to its closing boundary: a request left half-read keeps its connection
 * busy. A part cut at the size limit, a second part, or a body cut short is refused, and what
 * `take` made of it is let go (`discard`).
 */
export async function readOneFile<T>(
  request: FastifyRequest,
  options: {
    /** What is uploaded, for messages: "image", "file". */
    what: string
    tooLarge: () => AppError
    take: (part: MultipartFile) => Promise<T>
    discard?: (taken: T) => Promise<void>
  },
): Promise<T> {
  if (!request.isMultipart()) {
    throw new AppError(
      'unsupported_media_type',
      `Send the ${options.what} as multipart/form-data with a field named file`,
    )
  }
  let taken: { value: T } | undefined
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file' || part.fieldname !== 'file' || taken) {
        throw new AppError('validation_failed', 'The upload needs exactly one part, a file named file')
      }
      taken = { value: await options.take(part) }
      // The stream ends quietly at the limit; the iteration then reports the limit, but not always.
      if (part.file.truncated) throw options.tooLarge()
    }
  } catch (error) {
    if (taken) await options.discard?.(taken.value)
    translateMultipartError(error, options)
  }
  if (!taken) throw new AppError('validation_failed', 'The upload needs one part, a file named file')
  return taken.value
}

function translateMultipartError(error: unknown, options: { what: string; tooLarge: () => AppError }): never {
  if (error instanceof AppError) throw error
  const code = (error as { code?: string }).code
  if (code === 'FST_REQ_FILE_TOO_LARGE') throw options.tooLarge()
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    throw new AppError('unsupported_media_type', `Send the ${options.what} as multipart/form-data`)
  }
  if (typeof code === 'string' && code.startsWith('FST_')) {
    throw new AppError('validation_failed', (error as Error).message)
  }
  // The client went away or the body was cut short: nothing was stored.
  throw new AppError('validation_failed', 'The upload was cut off before it ended')
}

/**
 * An onRequest hook for an upload route (after the token check): a declared length beyond
 * `maxBytes` is refused before any of the body is read, then `check` may refuse too (a quota), and
 * the upload counts as one of the user's in progress (`begin`) until its reply is done or its
 * connection drops.
 */
export function uploadGuard(options: {
  maxBytes: number
  tooLarge: () => AppError
  begin: (userId: number) => () => void
  check?: (userId: number, declaredBytes: number) => Promise<void>
}) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const declared = Number(request.headers['content-length'] ?? 0)
    if (declared > options.maxBytes + ENVELOPE_BYTES) throw options.tooLarge()
    const userId = request.principal?.userId
    if (userId === undefined) return
    await options.check?.(userId, Math.max(0, declared - ENVELOPE_BYTES))
    const release = options.begin(userId)
    reply.raw.once('close', release)
  }
}
