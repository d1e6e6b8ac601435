import { request } from 'node:http'

export interface RawResult {
  status: number
  /** The body parsed as JSON, or the text when it is not JSON (undefined when empty). */
  body: unknown
  text: string
  headers: Record<string, string | string[] | undefined>
}

/**
 * An HTTP request with nothing normalised away: any method may carry a body (fetch refuses a
 * body on GET), the path is sent byte for byte (no URL parsing fixes `%ZZ`), and the headers
 * are exactly the ones given. For malformed-input tests.
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResult> {
  const url = new URL(base)
  const headers: Record<string, string | number> = { ...options.headers }
  if (options.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
    headers['content-length'] = Buffer.byteLength(options.body)
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown = text === '' ? undefined : text
          try {
            if (text !== '') body = JSON.parse(text)
          } catch {
            // Not JSON: the assertion on the body will show the text.
          }
          resolve({ status: res.statusCode ?? 0, body, text, headers: res.headers })
        })
      },
    )
    req.on('error', reject)
    if (options.body !== undefined) req.write(options.body)
    req.end()
  })
}
