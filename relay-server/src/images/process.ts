import type { ImageInfo } from '@parley/shared'
import type { Metadata } from 'sharp'
import { AppError } from '../errors'

/**
 * sharp (libvips) and file-type load on the first picture, not at start: libvips alone adds about
 * 30 MB to an idle relay's memory, and a relay that never receives a picture never needs it.
 */
interface Pipeline {
  sharp: typeof import('sharp').default
  fileTypeFromBuffer: typeof import('file-type').fileTypeFromBuffer
}
let pipeline: Promise<Pipeline> | undefined
function loadPipeline(): Promise<Pipeline> {
  pipeline ??= Promise.all([import('sharp'), import('file-type')]).then(([sharp, fileType]) => ({
    sharp: sharp.default,
    fileTypeFromBuffer: fileType.fileTypeFromBuffer,
  }))
  return pipeline
}

type Mime = ImageInfo['mime']

const FORMATS: Record<Mime, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
}

/** Largest decoded size, all frames counted: about a 50-megapixel photo. */
export const MAX_PIXELS = 50_000_000
export const THUMB_SIZE = 320
export const AVATAR_SIZE = 256

export interface ProcessedImage {
  mime: Mime
  width: number
  height: number
  /** The re-encoded original: orientation applied, metadata (EXIF, GPS, ICC comments) gone. */
  data: Buffer
  /** Longest side 320 px, WebP (animated stays animated). */
  thumb: Buffer
}

/**
 * Checks an upload by its bytes and re-encodes it. The type comes from the magic bytes and must
 * agree with what the decoder finds; re-encoding keeps only pixels, so metadata and anything
 * hidden beside the image (a polyglot's second payload) are gone.
 */
export async function processImage(input: Buffer): Promise<ProcessedImage> {
  const { sharp, fileTypeFromBuffer } = await loadPipeline()
  const detected = await fileTypeFromBuffer(input)
  const mime = detected?.mime as Mime | undefined
  if (!mime || !(mime in FORMATS)) {
    throw new AppError('unsupported_image', 'Only PNG, JPEG, GIF and WebP images are accepted')
  }
  const animated = mime === 'image/gif' || mime === 'image/webp'
  let metadata: Metadata
  try {
    metadata = await sharp(input, { animated, limitInputPixels: false }).metadata()
  } catch {
    throw new AppError('invalid_image', 'The image cannot be decoded')
  }
  if (metadata.format !== FORMATS[mime]) {
    throw new AppError('unsupported_image', `The file claims to be ${mime} but does not decode as one`)
  }
  const frameHeight = metadata.pageHeight ?? metadata.height
  const frames = metadata.pages ?? 1
  if (!metadata.width || !frameHeight || metadata.width * frameHeight * frames > MAX_PIXELS) {
    throw new AppError(
      'image_dimensions_too_large',
      `The image is too large to decode (at most ${MAX_PIXELS / 1_000_000} megapixels, all frames counted)`,
    )
  }
  try {
    const source = sharp(input, { animated, limitInputPixels: MAX_PIXELS, failOn: 'error' })
    // EXIF orientation applies to stills only; animations carry none.
    const oriented = frames > 1 ? source : source.rotate()
    // Both outputs come from the one decoded input (clone() shares it), at the same time.
    const original = oriented.clone()
    const encoded =
      mime === 'image/jpeg'
        ? original.jpeg({ quality: 88 })
        : mime === 'image/png'
          ? original.png({ compressionLevel: 6 })
          : mime === 'image/webp'
            ? original.webp({ quality: 88 })
            : original.gif()
    const thumbnail = oriented
      .clone()
      .resize({ width: THUMB_SIZE, height: THUMB_SIZE, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
    const [{ data, info }, thumb] = await Promise.all([
      encoded.toBuffer({ resolveWithObject: true }),
      thumbnail.toBuffer(),
    ])
    return { mime, width: info.width, height: info.pageHeight ?? info.height, data, thumb }
  } catch (error) {
    if (error instanceof AppError) throw error
    throw new AppError('invalid_image', 'The image is damaged or incomplete')
  }
}

/**
 * A 256 px square, centred on what the image is about (sharp's attention strategy). JPEG, not
 * WebP: desktop notifications show it, and Electron's nativeImage decodes only PNG and JPEG.
 * Transparency is laid on white.
 */
export async function makeAvatar(original: Buffer): Promise<Buffer> {
  const { sharp } = await loadPipeline()
  return sharp(original, { limitInputPixels: MAX_PIXELS })
    .resize({ width: AVATAR_SIZE, height: AVATAR_SIZE, fit: 'cover', position: sharp.strategy.attention })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 86 })
    .toBuffer()
}
