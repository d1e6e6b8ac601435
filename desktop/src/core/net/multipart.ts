import { randomUUID } from 'node:crypto'

// An upload's body: one multipart part named `file`, streamed as it is read (never whole in memory
// for a file from disk), telling how many of the file's bytes have gone so far.

const CHUNK = 64 * 1024

export interface MultipartPart {
  head: Buffer
  tail: Buffer
  contentType: string
}

export function multipartPart(fileName: string, type: string): MultipartPart {
  const boundary = `parley-${randomUUID()}`
  // The name is the relay's to make safe; here only what would break the header goes.
  const name = fileName.replace(/["\r\n\\]/g, '_')
  return {
    head: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
        `Content-Type: ${type.replace(/[\r\n]/g, '')}\r\n\r\n`,
    ),
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
    contentType: `multipart/form-data; boundary=${boundary}`,
  }
}

/** Bytes in memory as chunks. */
export async function* chunksOf(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += CHUNK) yield bytes.subarray(offset, offset + CHUNK)
}

export function multipartStream(
  part: MultipartPart,
  source: AsyncIterable<Uint8Array>,
  onProgress?: (sentBytes: number) => void,
): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]()
  let headSent = false
  let sent = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headSent) {
        headSent = true
        controller.enqueue(part.head)
        return
      }
      const next = await chunks.next()
      if (!next.done) {
        controller.enqueue(next.value)
        sent += next.value.length
        onProgress?.(sent)
        return
      }
      controller.enqueue(part.tail)
      controller.close()
    },
    async cancel() {
      await chunks.return?.()
    },
  })
}
