import { randomUUID } from 'node:crypto'
import { request } from 'node:http'
import type { ErrorCode, FileInfo, MessageResponse, SendMessageBody } from '@parley/shared'
import { http, type TestUser } from './client'

export interface FileUpload {
  status: number
  body: { file: FileInfo } & { error?: { code: ErrorCode; message: string } }
}

/** Uploads `bytes` with POST /files, as a browser or the desktop app would (multipart, field `file`). */
export async function uploadFile(
  base: string,
  token: string,
  bytes: Buffer | string,
  options: { filename?: string; type?: string } = {},
): Promise<FileUpload> {
  const form = new FormData()
  form.append(
    'file',
    new Blob([bytes], { type: options.type ?? 'application/pdf' }),
    options.filename ?? 'notes.pdf',
  )
  const response = await fetch(`${base}/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  })
  return { status: response.status, body: (await response.json()) as FileUpload['body'] }
}

/** Uploads and returns the file, failing the test on anything but 201. */
export async function uploaded(
  user: TestUser,
  bytes: Buffer | string,
  filename = 'notes.pdf',
): Promise<FileInfo> {
  const result = await uploadFile(user.base, user.token, bytes, { filename })
  if (result.status !== 201) throw new Error(`upload failed: ${result.status} ${JSON.stringify(result.body)}`)
  return result.body.file
}

export async function downloadFile(
  base: string,
  token: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const response = await fetch(`${base}/files/${id}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  })
  return {
    status: response.status,
    bytes: Buffer.from(await response.arrayBuffer()),
    headers: response.headers,
  }
}

/** POST /messages with any body (a clientId is added); the raw answer, for refusals too. */
export function send(from: TestUser, body: Omit<SendMessageBody, 'clientId'> & { clientId?: string }) {
  return http<MessageResponse>(from.base, 'POST', '/messages', {
    token: from.token,
    body: { clientId: randomUUID(), ...body },
  })
}

/** A PDF-looking file of `size` bytes (the header makes file-type see a PDF). */
export function pdfBytes(size = 2048): Buffer {
  const bytes = Buffer.alloc(size, 0x20)
  Buffer.from('%PDF-1.7\n').copy(bytes)
  return bytes
}

/**
 * A multipart upload to POST /files written by hand: chunked (no Content-Length, so nothing can
 * be refused before reading) or with the Content-Length given, and a body of `size` bytes.
 */
export function rawFileUpload(
  base: string,
  token: string,
  options: { size: number; contentLength?: number; filename?: string; type?: string },
): Promise<FileUpload> {
  const url = new URL(`${base}/files`)
  const boundary = 'parleyboundary'
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${(options.filename ?? 'big.bin').replaceAll('"', '\\"')}"\r\nContent-Type: ${options.type ?? 'application/octet-stream'}\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          ...(options.contentLength !== undefined && { 'content-length': options.contentLength }),
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
          }),
        )
      },
    )
    let answered = false
    req.on('response', () => {
      answered = true
    })
    // The relay may answer and close before the whole body is written: the answer is what counts.
    req.on('error', (error) => setTimeout(() => reject(error), 1000))
    req.write(head)
    const chunk = Buffer.alloc(64 * 1024, 7)
    let left = options.size
    const pump = () => {
      while (left > 0 && !answered) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left)
        left -= piece.length
        if (!req.write(piece)) return void req.once('drain', pump)
      }
      if (!answered) req.end(tail)
    }
    pump()
  })
}
