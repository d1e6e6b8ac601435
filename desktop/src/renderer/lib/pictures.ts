import { MAX_IMAGE_BYTES } from '@parley/shared/limits'

/** The picture types the relay takes, as a file input's `accept`. */
export const PICTURE_TYPES = 'image/png,image/jpeg,image/gif,image/webp'

const MB = 1_048_576

/** Why a file cannot go to the relay as a picture (for the person choosing it), or null if it can. */
export function pictureProblem(file: File): string | null {
  if (!PICTURE_TYPES.split(',').includes(file.type)) return 'Pictures must be PNG, JPEG, GIF or WebP.'
  if (file.size > MAX_IMAGE_BYTES) {
    return `That picture is ${(file.size / MB).toFixed(1)} MB; the limit is ${MAX_IMAGE_BYTES / MB} MB.`
  }
  return null
}

/** A picture's bytes as base64, as the bridge carries them (in slices: spreading 10 MB at once would overflow the stack). */
export async function toBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer())
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}
