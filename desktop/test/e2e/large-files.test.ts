import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canRunE2e, messageLog, openChat, type Person, screenshots, World } from './harness'

// A 40 MB file in browser mode, both ways: Alice attaches it (the page hands it to her app in
// pieces that each fit the bridge's 16 MB frame), Bob saves it (his app downloads it to disk, the
// page reads it back in pieces into a Blob): the bytes he gets are the bytes she sent.

const SIZE = 40 * 1024 * 1024
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

describe.skipIf(!canRunE2e)('a big file, in Chromium', () => {
  // The relay's default limit (100 MB).
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.contacts('Alice', 'Bob')
    await openChat(alice.page, '^Bob Tester')
    await openChat(bob.page, '^Alice Tester')
  }, 120_000)
  // The page reads a picked file from disk as it sends it: the file stays until the end.
  const pickDir = mkdtempSync(path.join(tmpdir(), 'parley-big-'))
  afterAll(async () => {
    await world.stop()
    rmSync(pickDir, { recursive: true, force: true })
  }, 60_000)

  it('40 MB sent and saved through the browser bridge: the same bytes arrive', {
    timeout: 420_000,
  }, async () => {
    const bytes = randomBytes(SIZE)
    // From a file on disk, as a person picks one (a 40 MB buffer through Playwright is slow).
    const picked = path.join(pickDir, 'holiday.mkv')
    writeFileSync(picked, bytes)
    const chooser = alice.page.waitForEvent('filechooser')
    await alice.page.getByRole('button', { name: 'Attach file' }).click()
    await (await chooser).setFiles(picked, { timeout: 60_000 })

    const theirs = messageLog(bob.page)
      .locator('article.message')
      .filter({ has: bob.page.getByText('holiday.mkv', { exact: true }) })
    // Chromium gives a picked .mkv no type: the bubble shows the size alone.
    await theirs.getByText('42 MB', { exact: true }).waitFor({ timeout: 240_000 })

    const download = bob.page.waitForEvent('download', { timeout: 150_000 })
    await theirs.getByRole('button', { name: /^Save holiday\.mkv/ }).click()
    const file = await download
    expect(file.suggestedFilename()).toBe('holiday.mkv')
    expect(await sha256File((await file.path()) as string)).toBe(sha256(bytes))
    await screenshots(bob.page, 'file-saved-big')
  })
})
