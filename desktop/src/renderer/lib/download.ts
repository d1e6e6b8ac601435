import type { MessageView } from '@parley/shared'

/**
 * Hands a file to the browser as a download: browser mode saves it in the downloads folder (or
 * asks, as the browser is set); Electron asks where to save it (its default for a download).
 */
export function downloadUrl(url: string, fileName: string): void {
  const link = document.createElement('a')
  link.href = url
  link.download = fileName
  link.style.display = 'none'
  document.body.append(link)
  link.click()
  link.remove()
}

/** Bytes the bridge carried (base64) saved as a file. */
export function downloadBytes(dataBase64: string, mime: string, fileName: string): void {
  downloadBlob(new Blob([fromBase64(dataBase64)], { type: mime }), fileName)
}

/** A Blob (put together from pieces, for a big file) saved as a file. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob)
  downloadUrl(url, fileName)
  // Long enough for the browser to have started reading it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/** The bytes of a base64 string (a loop: `Uint8Array.from` with a mapper is several times slower on MBs). */
export function fromBase64(dataBase64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(dataBase64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
}

/** `parley-2025-03-14-0905.jpg`: when it was sent, in this device's time zone. */
export function pictureFileName(message: Pick<MessageView, 'createdAt' | 'image'>): string {
  const at = new Date(message.createdAt)
  const two = (n: number) => String(n).padStart(2, '0')
  const stamp = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}-${two(at.getHours())}${two(at.getMinutes())}`
  return `parley-${stamp}.${EXTENSIONS[message.image?.mime ?? ''] ?? 'img'}`
}
