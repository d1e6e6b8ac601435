import { existsSync } from 'node:fs'
import { inflateRawSync } from 'node:zlib'
import { dmKey } from '@parley/shared'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accountFile } from '../src/core/accounts'
import type { LocalExport } from '../src/core/export/local-export'
import { conversation, startContacts, startCore, type TestCore, waitFor } from './helpers/core'
import { startRelay, type TestRelay } from './helpers/relay'

let relay: TestRelay
const cleanups: (() => Promise<void>)[] = []
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup()
  await relay.close()
})

/** The files of a zip, read from its local headers (what any unzip tool reads). */
function unzip(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  let at = 0
  while (archive.readUInt32LE(at) === 0x04034b50) {
    const method = archive.readUInt16LE(at + 8)
    const packed = archive.readUInt32LE(at + 18)
    const size = archive.readUInt32LE(at + 22)
    const nameLength = archive.readUInt16LE(at + 26)
    const extra = archive.readUInt16LE(at + 28)
    const name = archive.subarray(at + 30, at + 30 + nameLength).toString('utf8')
    const start = at + 30 + nameLength + extra
    const data = archive.subarray(start, start + packed)
    const content = method === 8 ? inflateRawSync(data) : Buffer.from(data)
    expect(content.length).toBe(size)
    files.set(name, content)
    at = start + packed
  }
  expect(archive.readUInt32LE(archive.length - 22)).toBe(0x06054b50)
  return files
}

describe('exporting conversations from the local store', () => {
  let alice: TestCore
  let bob: TestCore
  let aliceId: number
  let bobId: number

  beforeAll(async () => {
    const pair = await startContacts(relay.url)
    cleanups.push(pair.dispose)
    ;({ alice, bob } = pair.cores)
    aliceId = pair.a.user.id
    bobId = pair.b.user.id
    await alice.ok('messages.send', { conversation: dmKey(bobId), text: 'Hello <b>Bob</b> & co' })
    await bob.ok('messages.send', { conversation: dmKey(aliceId), text: 'Hi Alice,\nsecond line' })
    await waitFor(async () => (await conversation(alice, bobId)).length === 2)
  })

  it('one conversation: a zip of a readable, escaped HTML page and the same in JSON', async () => {
    const file = await alice.ok('export.local', { conversation: dmKey(bobId) })
    expect(file.mime).toBe('application/zip')
    expect(file.fileName).toMatch(/^parley-u[\w-]+-u[\w-]+-\d{4}-\d{2}-\d{2}\.zip$/)
    const files = unzip(Buffer.from(file.dataBase64, 'base64'))
    expect([...files.keys()].sort()).toEqual(['conversations.html', 'conversations.json'])
    const data = JSON.parse(files.get('conversations.json')!.toString()) as LocalExport
    expect(data.account.id).toBe(aliceId)
    expect(data.conversations).toHaveLength(1)
    expect(data.conversations[0]!.peer.id).toBe(bobId)
    expect(data.conversations[0]!.messages.map((m) => [m.from, m.text])).toEqual([
      [aliceId, 'Hello <b>Bob</b> & co'],
      [bobId, 'Hi Alice,\nsecond line'],
    ])
    const html = files.get('conversations.html')!.toString()
    // Text is text: a contact cannot put markup (or script) in the page.
    expect(html).toContain('Hello &lt;b&gt;Bob&lt;/b&gt; &amp; co')
    expect(html).not.toContain('<b>Bob</b>')
    expect(html).toContain('Hi Alice,<br>second line')
    expect(html).toContain("default-src 'none'")
  })

  it('all conversations; a conversation with nobody known is not_found', async () => {
    const file = await bob.ok('export.local', {})
    expect(file.fileName).toMatch(/-all-/)
    const data = JSON.parse(
      unzip(Buffer.from(file.dataBase64, 'base64')).get('conversations.json')!.toString(),
    ) as LocalExport
    expect(data.conversations.map((c) => c.peer.id)).toEqual([aliceId])
    expect(await bob.call('export.local', { conversation: dmKey(999_999) })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
  })

  it('needs a signed-in account', async () => {
    const nobody = await startCore()
    cleanups.push(() => nobody.dispose())
    expect(await nobody.call('export.local', {})).toMatchObject({
      ok: false,
      error: { code: 'not_signed_in' },
    })
  })
})

describe('app.security', () => {
  it('browser mode (no cipher) says so: no keychain, store encrypted with a key file', async () => {
    const core = await startCore()
    cleanups.push(() => core.dispose())
    expect(await core.ok('app.security', {})).toEqual({ keychain: 'none', storeEncrypted: true })
  })

  it('reports what the keychain cipher says', async () => {
    for (const status of ['keychain', 'weak', 'unavailable'] as const) {
      const core = await startCore(undefined, {
        tokenCipher: { encrypt: (p) => p, decrypt: (s) => s, status: () => status },
      })
      cleanups.push(() => core.dispose())
      expect((await core.ok('app.security', {})).keychain).toBe(status)
    }
  })
})

describe("the relay's copy: export and delete the account (DELETE /users/me, GET /users/me/export)", () => {
  it('exports a zip, refuses a wrong password, then deletes: signed out and nothing left on this device', async () => {
    const pair = await startContacts(relay.url)
    cleanups.push(pair.dispose)
    const { alice } = pair.cores
    const probe = await alice.call('account.delete', { password: 'definitely not it' })
    expect(probe).toMatchObject({ ok: false, error: { code: 'invalid_credentials' } })
    expect(await alice.ok('auth.session', {})).not.toBeNull()

    const file = await alice.ok('account.export', {})
    expect(file.fileName).toMatch(/-relay-export-\d{4}-\d{2}-\d{2}\.zip$/)
    expect(Buffer.from(file.dataBase64, 'base64').subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004')

    const store = accountFile(alice.dataDir, relay.url, pair.a.user.id)
    expect(existsSync(store)).toBe(true)
    expect(await alice.ok('account.delete', { password: 'correct horse battery' })).toBeNull()
    expect(await alice.ok('auth.session', {})).toBeNull()
    expect(alice.events('session.changed').at(-1)).toMatchObject({ session: null, reason: 'signed_out' })
    expect(existsSync(store)).toBe(false)
    expect(existsSync(`${store}-wal`)).toBe(false)
    // The relay no longer knows the password.
    const again = await alice.call('auth.login', {
      relayUrl: relay.url,
      username: pair.a.user.username,
      password: 'correct horse battery',
    })
    expect(again.ok).toBe(false)
  })
})
