/**
 * The type and size in pixels of a picture, read from its first bytes (PNG, JPEG, GIF, WebP), for
 * the preview shown while it uploads. The relay judges the file for itself; null here only means
 * "not known yet".
 */
export interface Sniffed {
  mime: string
  width: number | null
  height: number | null
}

export function sniffImage(bytes: Buffer): Sniffed {
  const positive = (n: number) => (Number.isInteger(n) && n > 0 ? n : null)
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47) {
    return {
      mime: 'image/png',
      width: positive(bytes.readUInt32BE(16)),
      height: positive(bytes.readUInt32BE(20)),
    }
  }
  if (bytes.length >= 10 && bytes.toString('latin1', 0, 4) === 'GIF8') {
    return {
      mime: 'image/gif',
      width: positive(bytes.readUInt16LE(6)),
      height: positive(bytes.readUInt16LE(8)),
    }
  }
  if (
    bytes.length >= 30 &&
    bytes.toString('latin1', 0, 4) === 'RIFF' &&
    bytes.toString('latin1', 8, 12) === 'WEBP'
  ) {
    const chunk = bytes.toString('latin1', 12, 16)
    if (chunk === 'VP8X')
      return {
        mime: 'image/webp',
        width: positive(bytes.readUIntLE(24, 3) + 1),
        height: positive(bytes.readUIntLE(27, 3) + 1),
      }
    if (chunk === 'VP8L') {
      const bits = bytes.readUInt32LE(21)
      return {
        mime: 'image/webp',
        width: positive((bits & 0x3fff) + 1),
        height: positive(((bits >> 14) & 0x3fff) + 1),
      }
    }
    if (chunk === 'VP8 ')
      return {
        mime: 'image/webp',
        width: positive(bytes.readUInt16LE(26) & 0x3fff),
        height: positive(bytes.readUInt16LE(28) & 0x3fff),
      }
    return { mime: 'image/webp', width: null, height: null }
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2
    while (at + 9 < bytes.length && bytes[at] === 0xff) {
      const marker = bytes[at + 1] ?? 0
      const length = bytes.readUInt16BE(at + 2)
      // Start-of-frame markers (not DHT, JPG or DAC, which share the range).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return {
          mime: 'image/jpeg',
          width: positive(bytes.readUInt16BE(at + 7)),
          height: positive(bytes.readUInt16BE(at + 5)),
        }
      }
      at += 2 + length
    }
    return { mime: 'image/jpeg', width: null, height: null }
  }
  return { mime: 'application/octet-stream', width: null, height: null }
}
