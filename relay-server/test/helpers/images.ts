import { request } from 'node:http'
import { crc32 } from 'node:zlib'
import type { ImageInfo } from '@parley/shared'
import sharp from 'sharp'

/** A solid-colour picture made on the spot, in the format asked for. */
export async function makeImage(
  format: 'png' | 'jpeg' | 'webp',
  width = 64,
  height = 48,
  background = '#3366cc',
): Promise<Buffer> {
  const image = sharp({ create: { width, height, channels: 3, background } })
  return (format === 'png' ? image.png() : format === 'jpeg' ? image.jpeg() : image.webp()).toBuffer()
}

/** A two-frame animated GIF. */
export async function makeAnimatedGif(): Promise<Buffer> {
  const frames = await Promise.all(['#ff0000', '#0000ff'].map((c) => makeImage('png', 40, 30, c)))
  return sharp(frames, { join: { animated: true } })
    .gif()
    .toBuffer()
}

/** A JPEG as a phone writes it: rotated by EXIF (200×100 stored, 100×200 shown) with GPS and a camera name. */
export async function makePhoneJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 200, height: 100, channels: 3, background: '#22aa44' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: 'Parley Cam', Model: 'Serial 0042' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '51/1 30/1 0/1',
        GPSLongitudeRef: 'W',
        GPSLongitude: '0/1 7/1 0/1',
      },
    })
    .toBuffer()
}

/** Whether EXIF data holds a GPS block (the GPS IFD pointer tag 0x8825, either byte order). */
export function hasGpsTag(exif: Buffer | undefined): boolean {
  return !!exif && (exif.includes(Buffer.from([0x88, 0x25])) || exif.includes(Buffer.from([0x25, 0x88])))
}

/**
 * A PNG whose header claims `width`×`height` over a tiny body: decoding it would need gigabytes
 * (a decompression bomb); only its header is real.
 */
export async function makePngBomb(width = 100_000, height = 100_000): Promise<Buffer> {
  const png = Buffer.from(await makeImage('png', 1, 1))
  // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC follows the 13 data bytes.
  png.writeUInt32BE(width, 16)
  png.writeUInt32BE(height, 20)
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29)
  return png
}

export interface UploadResult {
  status: number
  body: { image: ImageInfo } & { error?: { code: string; message: string } }
}

export async function upload(
  base: string,
  token: string,
  bytes: Buffer,
  options: { filename?: string; type?: string; field?: string } = {},
): Promise<UploadResult> {
  const form = new FormData()
  form.append(
    options.field ?? 'file',
    new Blob([bytes], { type: options.type ?? 'image/png' }),
    options.filename ?? 'picture.png',
  )
  const response = await fetch(`${base}/uploadimage`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  })
  return { status: response.status, body: (await response.json()) as UploadResult['body'] }
}

export async function download(
  base: string,
  token: string | null,
  id: string,
  options: { size?: 'thumb' | 'avatar'; etag?: string } = {},
): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const headers: Record<string, string> = {}
  if (token) headers.authorization = `Bearer ${token}`
  if (options.etag) headers['if-none-match'] = options.etag
  const response = await fetch(`${base}/images/${id}${options.size ? `?size=${options.size}` : ''}`, {
    headers,
  })
  return {
    status: response.status,
    bytes: Buffer.from(await response.arrayBuffer()),
    headers: response.headers,
  }
}

/**
 * Starts a multipart upload that declares `declared` bytes, sends `sent` of them, then drops the
 * connection, as a client that lost its network would.
 */
export function abortedUpload(
  base: string,
  token: string,
  declared: number,
  sent: number,
  route = '/uploadimage',
): Promise<void> {
  const url = new URL(`${base}${route}`)
  const boundary = 'parleyboundary'
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  )
  return new Promise((resolve) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + declared,
      },
    })
    req.on('error', () => resolve())
    req.write(head)
    req.write(Buffer.alloc(sent, 7), () => {
      setTimeout(() => {
        req.destroy()
        resolve()
      }, 100)
    })
  })
}
