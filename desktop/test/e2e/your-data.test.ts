import { readFileSync } from 'node:fs'
import { inflateRawSync } from 'node:zlib'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalExport } from '../../src/core/export/local-export'
import { canRunE2e, connect, openChat, type Person, register, screenshots, send, World } from './harness'

/** The files of a zip, read from its local headers. */
function unzip(archive: Buffer): Map<string, string> {
  const files = new Map<string, string>()
  let at = 0
  while (archive.readUInt32LE(at) === 0x04034b50) {
    const packed = archive.readUInt32LE(at + 18)
    const nameLength = archive.readUInt16LE(at + 26)
    const start = at + 30 + nameLength + archive.readUInt16LE(at + 28)
    const name = archive.subarray(at + 30, at + 30 + nameLength).toString()
    files.set(name, inflateRawSync(archive.subarray(start, start + packed)).toString())
    at = start + packed
  }
  return files
}

async function download(page: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download'), click()])
  const path = await file.path()
  return { name: file.suggestedFilename(), bytes: readFileSync(path) }
}

describe.skipIf(!canRunE2e)('Settings: security on this device and your data', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await world.registered('Alice', 'Bob', 'Carol')
    await connect(alice, bob)
    await connect(alice, carol)
    await openChat(alice.page, 'Bob')
    await send(alice.page, 'Hello <b>Bob</b>, see you at 5 & bring the map')
    await openChat(alice.page, 'Carol')
    await send(alice.page, 'Carol, a word for you only')
  }, 90_000)
  afterAll(() => world.stop(), 60_000)

  it('says how this device keeps the key and the session (browser mode: no keychain)', {
    timeout: 30_000,
  }, async () => {
    const { page } = alice
    await page.getByRole('button', { name: 'Settings' }).click()
    const dialog = page.getByRole('dialog', { name: 'Settings' })
    const security = dialog.getByRole('region', { name: 'Security on this device' })
    await security.waitFor()
    expect(await security.textContent()).toMatch(
      /messages on this computer are encrypted.*no system keychain.*only your user account can read/s,
    )
    await dialog.getByRole('region', { name: 'Your data' }).scrollIntoViewIfNeeded()
    await screenshots(page, 'settings-your-data')
  })

  it('exports one conversation, then all, as a zip of a readable page and JSON', {
    timeout: 30_000,
  }, async () => {
    const { page } = alice
    const data = page.getByRole('region', { name: 'Your data' })
    const which = data.getByLabel('Which conversations to export')
    expect(await which.locator('option').allTextContents()).toEqual(
      expect.arrayContaining(['All conversations', 'Bob Tester', 'Carol Tester']),
    )
    await which.selectOption({ label: 'Bob Tester' })
    const one = await download(page, () => data.getByRole('button', { name: 'Export', exact: true }).click())
    expect(one.name).toMatch(
      new RegExp(`^parley-${alice.username}-${bob.username}-\\d{4}-\\d{2}-\\d{2}\\.zip$`),
    )
    await data
      .getByRole('status')
      .filter({ hasText: `Saved ${one.name}` })
      .waitFor()
    const files = unzip(one.bytes)
    const json = JSON.parse(files.get('conversations.json')!) as LocalExport
    expect(json.conversations.map((c) => c.peer.username)).toEqual([bob.username])
    expect(json.conversations[0]!.messages.map((m) => m.text)).toEqual([
      'Hello <b>Bob</b>, see you at 5 & bring the map',
    ])
    const html = files.get('conversations.html')!
    expect(html).toContain('Hello &lt;b&gt;Bob&lt;/b&gt;, see you at 5 &amp; bring the map')
    expect(html).not.toContain('Carol, a word')

    // The page reads on its own, in a browser, without Parley.
    const viewer = await page.context().newPage()
    await viewer.setContent(html)
    expect(await viewer.getByRole('heading', { level: 2 }).textContent()).toContain('Bob Tester')
    expect(await viewer.getByText('Hello <b>Bob</b>, see you at 5 & bring the map').count()).toBe(1)
    await screenshots(viewer, 'local-export-page')
    await viewer.close()

    await which.selectOption({ label: 'All conversations' })
    const all = await download(page, () => data.getByRole('button', { name: 'Export', exact: true }).click())
    expect(all.name).toMatch(/-all-/)
    const everything = JSON.parse(unzip(all.bytes).get('conversations.json')!) as LocalExport
    expect(everything.conversations.map((c) => c.peer.username).sort()).toEqual(
      [bob.username, carol.username].sort(),
    )
  })

  it('deleting the account asks for the password first, and can be cancelled', {
    timeout: 30_000,
  }, async () => {
    const { page } = alice
    const data = page.getByRole('region', { name: 'Your data' })
    await data.getByRole('button', { name: 'Delete my account' }).click()
    const form = data.getByRole('form', { name: 'Delete your account?' })
    await form.waitFor()
    await form.getByRole('button', { name: 'Delete my account' }).click()
    const password = form.getByLabel('Your password')
    expect(await password.getAttribute('aria-invalid')).toBe('true')
    expect(await form.locator('#delete-password-error').textContent()).toBe('Enter your password to confirm')
    await screenshots(page, 'settings-delete-account')
    await form.getByRole('button', { name: 'Cancel' }).click()
    expect(await form.count()).toBe(0)
    // Still signed in.
    expect((await alice.host.core.call('auth.session', {})).ok).toBe(true)
  })

  it('deletes the account with the password: a wrong one is said so, the right one signs out', {
    timeout: 30_000,
  }, async () => {
    const { page } = alice
    const data = page.getByRole('region', { name: 'Your data' })
    await data.getByRole('button', { name: 'Delete my account' }).click()
    const form = data.getByRole('form', { name: 'Delete your account?' })
    await form.getByLabel('Your password').fill('not my password')
    await form.getByRole('button', { name: 'Delete my account' }).click()
    await form.getByText('Wrong password').waitFor()
    await form.getByLabel('Your password').fill('correct horse battery')
    await form.getByRole('button', { name: 'Delete my account' }).click()
    await page.getByRole('tab', { name: 'Sign in' }).waitFor()
    const session = await alice.host.core.call('auth.session', {})
    expect(session.ok && session.value).toBeNull()
  })
})

describe.skipIf(!canRunE2e)('Settings when the system keychain cannot seal the session', () => {
  const world = new World()
  afterAll(() => world.stop(), 60_000)

  it('says so plainly: a missing keyring (Linux basic_text), then an unavailable keychain', {
    timeout: 60_000,
  }, async () => {
    await world.start()
    for (const status of ['weak', 'unavailable'] as const) {
      const dana = await world.person('Dana', {
        shell: 'electron',
        tokenCipher: { encrypt: (p) => p, decrypt: (s) => s, status: () => status },
      })
      await register(dana)
      await dana.page.getByRole('button', { name: 'Settings' }).click()
      const notice = dana.page.getByRole('region', { name: 'Security on this device' }).getByRole('status')
      await notice.waitFor()
      const text = (await notice.textContent())!.replace(/\s+/g, ' ')
      expect(text).toContain(
        status === 'weak' ? 'The system keychain is missing' : 'The system keychain is unavailable',
      )
      expect(text).toMatch(/kept in files that only your user account can read/)
      if (status === 'weak') {
        expect(text).toMatch(/No keyring \(GNOME Keyring or KWallet\)/)
        await notice.scrollIntoViewIfNeeded()
        await screenshots(dana.page, 'settings-keychain-missing')
      }
    }
  })
})
