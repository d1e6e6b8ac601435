import { MAX_IMAGE_BYTES } from '@parley/shared/limits'
import { PICTURE_MIME_TYPES, sniffImage } from '@parley/shared/sniff'

/** The picture types the relay takes, as a file input's `accept`. */
export const PICTURE_TYPES = PICTURE_MIME_TYPES

const MB = 1_048_576
/** Enough of the file to find a JPEG's frame header behind its metadata, for the preview's size. */
const SNIFF_BYTES = 64 * 1024

/**
 * Why a file cannot go to the relay as a picture (for the person choosing it), or null if it can.
 * Judged by its bytes, as the relay judges it: a name or a type the OS guessed from the name says
 * nothing (a text file renamed `.png` is refused here, before any preview).
 */
export async function pictureProblem(file: File): Promise<string | null> {
  if (file.size > MAX_IMAGE_BYTES) {
    return `That picture is ${(file.size / MB).toFixed(1)} MB; the limit is ${MAX_IMAGE_BYTES / MB} MB.`
  }
  const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer())
  if (sniffImage(head).mime === null) {
    const name = file.name ? `“${file.name}”` : 'That file'
    return `${name} is not a picture Parley can send: pictures must be PNG, JPEG, GIF or WebP.`
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
