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
  const bytes = Uint8Array.from(atob(dataBase64), (c) => c.charCodeAt(0))
  const url = URL.createObjectURL(new Blob([bytes], { type: mime }))
  downloadUrl(url, fileName)
  // Long enough for the browser to have started reading it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
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
