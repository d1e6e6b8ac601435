export const OCTET_STREAM = 'application/octet-stream'

/** The longest name kept, in characters (FileInfo allows 255; room for a client's " (2)"). */
const MAX_NAME = 200

/**
 * Characters a name loses: C0 and C1 controls, bidirectional overrides and marks (which make
 * "gpj.exe" read as "exe.jpg"), quotes, and what Windows refuses in a name (so a client can save it
 * as given). Lone surrogates are dropped too: they cannot be stored or encoded.
 */
const UNSAFE = new RegExp(
  [
    '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069"\'<>:|?*]',
    '[\\ud800-\\udbff](?![\\udc00-\\udfff])',
    '(?<![\\ud800-\\udbff])[\\udc00-\\udfff]',
  ].join('|'),
  'g',
)

/**
 * A file's name made safe to store, show and put in a header: the last part of any path, without
 * unsafe characters, white space collapsed, no leading dots (no hidden files, no `..`), at most
 * MAX_NAME characters with the extension kept; `file` when nothing readable is left.
 */
export function safeFileName(raw: string | undefined): string {
  const last = (raw ?? '').normalize('NFC').split(/[/\\]/).at(-1) ?? ''
  let name = last.replace(UNSAFE, '').replace(/\s+/g, ' ').trim().replace(/^\.+/, '').trim()
  const chars = [...name]
  if (chars.length > MAX_NAME) {
    const dot = name.lastIndexOf('.')
    const extension = dot > 0 && name.length - dot <= 16 ? [...name.slice(dot)] : []
    name =
      chars
        .slice(0, MAX_NAME - extension.length)
        .join('')
        .trimEnd() + extension.join('')
  }
  return name === '' ? 'file' : name
}

/** `Content-Disposition` for a download: an ASCII fallback and the full name (RFC 6266, RFC 8187). */
export function attachmentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|[\\%]/g, '_')
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`
}

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$/
/** Kinds a client might preview: a declared one must agree with the bytes (audio and video share containers). */
const PREVIEWED: Record<string, string> = { image: 'image', audio: 'media', video: 'media' }

/**
 * The type to keep for a file: what the uploader declared (lowercased, without parameters) when it
 * is a well-formed media type and, for an image, audio or video type, the bytes agree; otherwise
 * application/octet-stream. A label for clients only: the relay never serves a file as its type.
 */
export async function storedType(declared: string | undefined, head: Buffer): Promise<string> {
  const type = (declared ?? '').split(';')[0]!.trim().toLowerCase()
  if (!MEDIA_TYPE.test(type)) return OCTET_STREAM
  const kind = PREVIEWED[type.split('/')[0]!]
  if (kind === undefined) return type
  // Loaded on the first such upload, as for pictures (see images/process.ts): not at start.
  const { fileTypeFromBuffer } = await import('file-type')
  const sniffed = await fileTypeFromBuffer(head).catch(() => undefined)
  if (!sniffed || PREVIEWED[sniffed.mime.split('/')[0]!] !== kind) return OCTET_STREAM
  return type
}
