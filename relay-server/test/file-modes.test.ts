import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { registerUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { pdfBytes, uploadFile } from './helpers/files'
import { makeImage, upload } from './helpers/images'
import { startRelay } from './helpers/relay'

const mode = (file: string) => statSync(file).mode & 0o777

/** Every file and folder under `root`, with its permission bits. */
function modesUnder(root: string): { file: string; dir: boolean; mode: number }[] {
  return readdirSync(root, { withFileTypes: true, recursive: true }).map((entry) => {
    const file = path.join(entry.parentPath, entry.name)
    return { file, dir: entry.isDirectory(), mode: mode(file) }
  })
}

describe.each(dialects)('the data folder is private to the relay (%s)', (dialect) => {
  const folders: string[] = []
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true })
  })

  it('creates DATA_DIR 0700 and its files 0600, pictures and uploaded files included', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'parley-modes-'))
    folders.push(parent)
    const dataDir = path.join(parent, 'data')
    const relay = await startRelay({ dialect, dataDir })
    try {
      const me = await registerUser(relay.url)
      expect((await upload(relay.url, me.token, await makeImage('png'))).status).toBe(201)
      expect((await uploadFile(relay.url, me.token, pdfBytes(1000))).status).toBe(201)
      expect(mode(dataDir)).toBe(0o700)
      const entries = modesUnder(dataDir)
      for (const kind of ['images', 'files'])
        expect(entries.some((e) => e.file.includes(`${path.sep}${kind}${path.sep}`) && !e.dir)).toBe(true)
      if (dialect === 'sqlite') expect(entries.some((e) => e.file.endsWith('relay.sqlite-wal'))).toBe(true)
      for (const entry of entries)
        expect([entry.file, entry.mode]).toEqual([entry.file, entry.dir ? 0o700 : 0o600])
    } finally {
      await relay.close()
    }
  })

  it('makes an existing folder from an older relay private at start', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-modes-old-'))
    folders.push(dataDir)
    chmodSync(dataDir, 0o755)
    mkdirSync(path.join(dataDir, 'images', 'ab'), { recursive: true, mode: 0o755 })
    chmodSync(path.join(dataDir, 'images'), 0o755)
    if (dialect === 'sqlite') writeFileSync(path.join(dataDir, 'relay.sqlite'), '', { mode: 0o644 })
    const relay = await startRelay({ dialect, dataDir })
    await relay.close()
    expect(mode(dataDir)).toBe(0o700)
    expect(mode(path.join(dataDir, 'images'))).toBe(0o700)
    expect(mode(path.join(dataDir, 'images', 'ab'))).toBe(0o700)
    if (dialect === 'sqlite') expect(mode(path.join(dataDir, 'relay.sqlite'))).toBe(0o600)
  })
})
