import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type SaveDialogOptions, safeFileName, saveFileWithDialog } from '../../src/main/ipc/save-file'

// Electron's save dialog for a message's file, with the dialog injected: what it suggests, what
// it writes where the person chose, and what it does when they cancel or the copy fails.

let dir: string
let source: string
const bytes = randomBytes(300_000)

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'parley-save-'))
  source = path.join(dir, 'downloaded')
  writeFileSync(source, bytes)
  mkdirSync(path.join(dir, 'chosen'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** A dialog that answers `answer` and remembers what it was asked. */
function dialog(answer: { canceled: boolean; filePath?: string }) {
  const asked: SaveDialogOptions[] = []
  const showSaveDialog = vi.fn(async (options: SaveDialogOptions) => {
    asked.push(options)
    return answer
  })
  return { asked, showSaveDialog }
}

describe('the save dialog (Electron)', () => {
  it('writes the file’s bytes at the path chosen, and says where', async () => {
    const target = path.join(dir, 'chosen', 'report.pdf')
    const fake = dialog({ canceled: false, filePath: target })
    const saveAs = saveFileWithDialog({
      showSaveDialog: fake.showSaveDialog,
      downloadsDir: () => '/home/ada/Downloads',
    })
    expect(await saveAs({ source, suggestedName: 'report.pdf' })).toBe(target)
    expect(readFileSync(target).equals(bytes)).toBe(true)
    // Nothing else is left beside it (the temporary copy was renamed into place).
    expect(readdirSync(path.join(dir, 'chosen'))).toEqual(['report.pdf'])
    expect(fake.asked).toEqual([
      {
        title: 'Save file',
        defaultPath: path.join('/home/ada/Downloads', 'report.pdf'),
        properties: ['createDirectory', 'showOverwriteConfirmation'],
      },
    ])
  })

  it('replaces a file the person chose to overwrite (the dialog asked them)', async () => {
    const target = path.join(dir, 'chosen', 'report.pdf')
    writeFileSync(target, 'old')
    const saveAs = saveFileWithDialog({
      showSaveDialog: dialog({ canceled: false, filePath: target }).showSaveDialog,
      downloadsDir: () => dir,
    })
    await saveAs({ source, suggestedName: 'report.pdf' })
    expect(readFileSync(target).equals(bytes)).toBe(true)
  })

  it('cancelled: writes nothing and says so (null)', async () => {
    const saveAs = saveFileWithDialog({
      // Some platforms name a path even when cancelled.
      showSaveDialog: dialog({ canceled: true, filePath: path.join(dir, 'chosen', 'x') }).showSaveDialog,
      downloadsDir: () => dir,
    })
    expect(await saveAs({ source, suggestedName: 'report.pdf' })).toBeNull()
    expect(readdirSync(path.join(dir, 'chosen'))).toEqual([])
  })

  it('suggests a safe name: no folders, no control characters, nothing Windows refuses', async () => {
    const fake = dialog({ canceled: true })
    const saveAs = saveFileWithDialog({ showSaveDialog: fake.showSaveDialog, downloadsDir: () => '/dl' })
    await saveAs({ source, suggestedName: '../../etc/passwd' })
    await saveAs({ source, suggestedName: 'C:\\Windows\\evil.exe' })
    await saveAs({ source, suggestedName: 'bell\u0007and\nnewline\u202e.txt' })
    expect(fake.asked.map((o) => o.defaultPath)).toEqual([
      path.join('/dl', '_.._etc_passwd'),
      path.join('/dl', 'C__Windows_evil.exe'),
      // U+202E (right-to-left override) is a format character, not a control one: it stays visible
      // in the dialog, where the person sees the name they are saving.
      path.join('/dl', 'bell_and_newline\u202e.txt'),
    ])
    for (const asked of fake.asked) expect(path.dirname(asked.defaultPath)).toBe('/dl')
  })

  it('an error is thrown for the core to report, and no half-written file is left', async () => {
    const chosen = path.join(dir, 'chosen')
    const saveAs = saveFileWithDialog({
      showSaveDialog: dialog({ canceled: false, filePath: path.join(chosen, 'report.pdf') }).showSaveDialog,
      downloadsDir: () => dir,
    })
    // The source went missing (the downloaded copy was removed meanwhile).
    await expect(saveAs({ source: path.join(dir, 'gone'), suggestedName: 'report.pdf' })).rejects.toThrow(
      /ENOENT/,
    )
    expect(readdirSync(chosen)).toEqual([])
  })

  it('a copy that cannot be put in place leaves nothing of it beside the target', async () => {
    const chosen = path.join(dir, 'chosen')
    // The path chosen is a folder with something in it: the copy is made, the rename refused.
    mkdirSync(path.join(chosen, 'report.pdf'))
    writeFileSync(path.join(chosen, 'report.pdf', 'inside'), 'x')
    const saveAs = saveFileWithDialog({
      showSaveDialog: dialog({ canceled: false, filePath: path.join(chosen, 'report.pdf') }).showSaveDialog,
      downloadsDir: () => dir,
    })
    await expect(saveAs({ source, suggestedName: 'report.pdf' })).rejects.toThrow(
      /EISDIR|ENOTEMPTY|EEXIST|EPERM/,
    )
    expect(readdirSync(chosen)).toEqual(['report.pdf'])
    expect(readdirSync(path.join(chosen, 'report.pdf'))).toEqual(['inside'])
  })

  it('a dialog that fails is reported too', async () => {
    const saveAs = saveFileWithDialog({
      showSaveDialog: async () => {
        throw new Error('no display')
      },
      downloadsDir: () => dir,
    })
    await expect(saveAs({ source, suggestedName: 'report.pdf' })).rejects.toThrow('no display')
  })
})

describe('safeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['a/b\\c', 'a_b_c'],
    ['tab\there', 'tab_here'],
    ['nul\u0000byte', 'nul_byte'],
    ['del\u007fc1\u0085', 'del_c1_'],
    ['what?<>:"|*.txt', 'what_______.txt'],
    ['.hidden', 'hidden'],
    ['..', 'file'],
    ['   ', 'file'],
    ['trailing. . ', 'trailing'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['console.log', 'console.log'],
  ])('%j → %j', (given, safe) => {
    expect(safeFileName(given)).toBe(safe)
  })

  it('keeps a long name within 255 bytes, extension kept, characters whole', () => {
    const name = `${'é'.repeat(300)}.tar.gz`
    const safe = safeFileName(name)
    expect(Buffer.byteLength(safe)).toBeLessThanOrEqual(255)
    expect(safe.endsWith('é.gz')).toBe(true)
    expect(safe).not.toContain('\ufffd')
  })
})
