import { randomBytes } from 'node:crypto'
import { copyFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import type { SaveAs } from '../../core/options'

export interface SaveDialogOptions {
  title: string
  defaultPath: string
  properties: ('createDirectory' | 'showOverwriteConfirmation')[]
}

export interface SaveFileDeps {
  /**
   * Electron's `dialog.showSaveDialog`, modal to the app's window when there is one: the path
   * chosen, or `canceled`.
   */
  showSaveDialog(options: SaveDialogOptions): Promise<{ canceled: boolean; filePath?: string }>
  /** Where the dialog opens (`app.getPath('downloads')`). */
  downloadsDir(): string
}

/** Windows refuses these names for a file, whatever the extension. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i
const MAX_NAME_BYTES = 255

/**
 * A name a sender chose, made safe to suggest as a file name: no folders (`/`, `\`), no control
 * characters, none of the characters Windows refuses, no leading dots (hidden, or `..`), no
 * trailing dots or spaces, not a reserved device name, at most 255 bytes with its extension kept.
 */
export function safeFileName(name: string): string {
  let safe = name
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what goes
    .replace(/[\u0000-\u001f\u007f-\u009f/\\:*?"<>|]/g, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '')
  if (RESERVED.test(safe)) safe = `_${safe}`
  if (Buffer.byteLength(safe) > MAX_NAME_BYTES) {
    const ext = path.extname(safe).slice(0, 16)
    let stem = safe.slice(0, safe.length - ext.length)
    while (Buffer.byteLength(stem + ext) > MAX_NAME_BYTES) stem = [...stem].slice(0, -1).join('')
    safe = stem + ext
  }
  return safe || 'file'
}

/**
 * Electron's side of `messages.saveFileAs`: the system's save dialog, opened on the downloads
 * folder with the file's name (made safe), and the downloaded file copied where the person chose.
 * The copy goes to a temporary name beside the target and is renamed into place, so a failure
 * (no room, no permission) leaves nothing half-written there; the failure is thrown for the core to
 * report, never swallowed. Bytes never pass through the window: the core has them on disk.
 */
export function saveFileWithDialog(deps: SaveFileDeps): SaveAs {
  return async ({ source, suggestedName }) => {
    const answer = await deps.showSaveDialog({
      title: 'Save file',
      defaultPath: path.join(deps.downloadsDir(), safeFileName(suggestedName)),
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    })
    if (answer.canceled || !answer.filePath) return null
    const target = answer.filePath
    const temporary = path.join(
      path.dirname(target),
      `.${path.basename(target)}.${randomBytes(6).toString('hex')}.part`,
    )
    try {
      await copyFile(source, temporary)
      await rename(temporary, target)
    } catch (error) {
      await rm(temporary, { force: true })
      throw error
    }
    return target
  }
}
