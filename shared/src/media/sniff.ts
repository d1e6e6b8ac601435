// Pure byte reading (Uint8Array, no Buffer), so the renderer can check a picked file before it shows
// a preview and the desktop core can check the same bytes before it queues them. The renderer
// imports this module on its own (`@parley/shared/sniff`), without the schema libraries.

/**
 * The type and size in pixels of a picture, read from its first bytes (PNG, JPEG, GIF, WebP).
 * `mime` is null when the bytes are none of those: whatever the file's name or claimed type, it is
 * not a picture the relay will take. Width and height are null when not known from these bytes.
 */
export interface Sniffed {
  mime: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | null
  width: number | null
  height: number | null
}

/** The picture types the relay takes, as an `accept` list for a file input. */
export const PICTURE_MIME_TYPES = 'image/png,image/jpeg,image/gif,image/webp'

export function sniffImage(bytes: Uint8Array): Sniffed {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to))
  const positive = (n: number) => (Number.isInteger(n) && n > 0 ? n : null)
  if (bytes.length >= 24 && view.getUint32(0) === 0x89504e47) {
    return { mime: 'image/png', width: positive(view.getUint32(16)), height: positive(view.getUint32(20)) }
  }
  if (bytes.length >= 10 && ascii(0, 4) === 'GIF8') {
    return {
      mime: 'image/gif',
      width: positive(view.getUint16(6, true)),
      height: positive(view.getUint16(8, true)),
    }
  }
  if (bytes.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') {
    const uint24 = (at: number) => view.getUint16(at, true) + ((bytes[at + 2] ?? 0) << 16)
    const chunk = ascii(12, 16)
    if (chunk === 'VP8X')
      return { mime: 'image/webp', width: positive(uint24(24) + 1), height: positive(uint24(27) + 1) }
    if (chunk === 'VP8L') {
      const bits = view.getUint32(21, true)
      return {
        mime: 'image/webp',
        width: positive((bits & 0x3fff) + 1),
        height: positive(((bits >> 14) & 0x3fff) + 1),
      }
    }
    if (chunk === 'VP8 ')
      return {
        mime: 'image/webp',
        width: positive(view.getUint16(26, true) & 0x3fff),
        height: positive(view.getUint16(28, true) & 0x3fff),
      }
    return { mime: 'image/webp', width: null, height: null }
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    let at = 2
    while (at + 9 < bytes.length && bytes[at] === 0xff) {
      const marker = bytes[at + 1] ?? 0
      const length = view.getUint16(at + 2)
      // Start-of-frame markers (not DHT, JPG or DAC, which share the range).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return {
          mime: 'image/jpeg',
          width: positive(view.getUint16(at + 7)),
          height: positive(view.getUint16(at + 5)),
        }
      }
      at += 2 + length
    }
    return { mime: 'image/jpeg', width: null, height: null }
  }
  return { mime: null, width: null, height: null }
}
