import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canRunE2e, chatRow, idOf, messageLog, openChat, type Person, screenshots, World } from './harness'

// Files of any type: the Attach button takes any file (pictures keep their own path), a file over
// the relay's stated limit is refused before anything is sent, the bubble shows the name, size and
// type, and clicking it (or Save file in the menu) downloads it; in a 1:1 chat and a group.

const MAX = 3_000_000
const fileMessage = (page: Page, name: string) =>
  messageLog(page)
    .locator('article.message')
    .filter({ has: page.getByText(name, { exact: true }) })

async function attach(page: Page, file: { name: string; mimeType: string; buffer: Buffer }) {
  const chooser = page.waitForEvent('filechooser')
  await page.getByRole('button', { name: 'Attach file' }).click()
  await (await chooser).setFiles(file)
}

describe.skipIf(!canRunE2e)('files, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start({ relayEnv: { MAX_FILE_BYTES: String(MAX) } })
    ;[alice, bob] = await world.contacts('Alice', 'Bob')
    await openChat(alice.page, '^Bob Tester')
    await openChat(bob.page, '^Alice Tester')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('sends any file; the other side sees its name, size and type and downloads the same bytes', {
    timeout: 60_000,
  }, async () => {
    const bytes = Buffer.from('%PDF-1.4\n'.padEnd(250_000, 'x'))
    await attach(alice.page, { name: 'minutes.pdf', mimeType: 'application/pdf', buffer: bytes })
    const mine = fileMessage(alice.page, 'minutes.pdf')
    await mine.getByText('250 KB · application/pdf').waitFor()
    const theirs = fileMessage(bob.page, 'minutes.pdf')
    await theirs.getByText('250 KB · application/pdf').waitFor()
    await screenshots(bob.page, 'file-bubble')

    const download = bob.page.waitForEvent('download')
    await theirs.getByRole('button', { name: /^Save minutes\.pdf/ }).click()
    const file = await download
    expect(file.suggestedFilename()).toBe('minutes.pdf')
    expect(readFileSync((await file.path()) as string).equals(bytes)).toBe(true)

    // Save file in the menu too.
    await theirs.locator('.bubble').click({ button: 'right' })
    const again = bob.page.waitForEvent('download')
    await bob.page
      .getByRole('menu', { name: 'Message menu' })
      .getByRole('menuitem', { name: 'Save file' })
      .click()
    expect((await again).suggestedFilename()).toBe('minutes.pdf')
  })

  it('a file over the relay’s limit is refused at once, saying the limit', { timeout: 30_000 }, async () => {
    await attach(alice.page, { name: 'video.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(MAX + 1, 1) })
    await alice.page
      .getByRole('alert')
      .getByText(/is larger than this relay takes: files up to 3\.0 MB/)
      .waitFor()
    expect(await fileMessage(alice.page, 'video.mp4').count()).toBe(0)
    await screenshots(alice.page, 'file-too-large')
  })

  it('in a group, written offline: waits, then uploads and arrives', { timeout: 60_000 }, async () => {
    const bobId = await idOf(alice, bob.username)
    const made = await alice.host.core.call('groups.create', { title: 'Board', memberIds: [bobId] })
    if (!made.ok) throw new Error(made.error.message)
    await chatRow(bob.page, 'Board').waitFor()
    await openChat(alice.page, 'Board')
    await openChat(bob.page, 'Board')
    alice.proxy.goOffline()
    await attach(alice.page, { name: 'budget.xlsx', mimeType: '', buffer: Buffer.alloc(1_200_000, 7) })
    await fileMessage(alice.page, 'budget.xlsx')
      .getByText(/Waiting to upload|Uploading/)
      .waitFor()
    await screenshots(alice.page, 'file-pending')
    alice.proxy.goOnline()
    await fileMessage(bob.page, 'budget.xlsx').getByText('1.2 MB').waitFor()
  })
})
