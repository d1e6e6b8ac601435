import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import SQLite from 'better-sqlite3'
import { afterAll, describe, expect } from 'vitest'
import { admin, CLI_TEST_MS } from './helpers/admin'
import { registerContacts, sendMessage } from './helpers/client'
import { dialects } from './helpers/dialects'
import { pdfBytes, uploaded } from './helpers/files'
import { makeImage, upload } from './helpers/images'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()
const scratch = mkdtempSync(path.join(tmpdir(), 'parley-backups-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
let n = 0
const newFolder = () => path.join(scratch, `backup-${++n}`)

describe.each(dialects)('parley-relay admin backup (%s)', (dialect) => {
  const it = withRelay[dialect]

  if (dialect === 'postgres') {
    it('says to use pg_dump for PostgreSQL, and writes nothing', { timeout: CLI_TEST_MS }, async ({
      relay,
    }) => {
      const folder = newFolder()
      for (const args of [
        ['backup', folder],
        ['backup', 'check', folder],
      ]) {
        const run = await admin(relay, args)
        expect(run.code).toBe(1)
        expect(run.stderr).toMatch(/pg_dump/)
      }
      expect(existsSync(folder)).toBe(false)
    })
    return
  }

  it('copies the database and pictures while the relay takes writes; the check finds it sound', {
    timeout: CLI_TEST_MS,
  }, async ({ relay }) => {
    const [alice, bob] = await registerContacts(relay.url)
    const picture = await upload(relay.url, alice.token, await makeImage('png', 60, 40, '#123456'))
    expect(picture.status).toBe(201)
    const fileBytes = pdfBytes(4000)
    await uploaded(alice, fileBytes, 'kept.pdf')
    await sendMessage(alice, bob, 'before the backup')
    const folder = newFolder()

    // Messages keep arriving while the copy is taken.
    let writing = true
    const writer = (async () => {
      let sent = 0
      while (writing) {
        await sendMessage(bob, alice, `during ${sent++}`)
      }
      return sent
    })()
    const made = await admin(relay, ['backup', folder])
    writing = false
    const sentDuring = await writer
    expect(made.stderr).toBe('')
    expect(made.code).toBe(0)
    expect(sentDuring).toBeGreaterThan(0)

    expect(statSync(folder).mode & 0o777).toBe(0o700)
    expect(statSync(path.join(folder, 'relay.sqlite')).mode & 0o777).toBe(0o600)
    const copy = new SQLite(path.join(folder, 'relay.sqlite'), { readonly: true })
    const messages = (copy.prepare('select count(*) as n from messages').get() as { n: number }).n
    copy.close()
    expect(messages).toBeGreaterThanOrEqual(1)
    const id = picture.body.image.id
    expect(existsSync(path.join(folder, 'images', id.slice(0, 2), id))).toBe(true)
    const blob = createHash('sha256').update(fileBytes).digest('hex')
    expect(existsSync(path.join(folder, 'files', blob.slice(0, 2), blob))).toBe(true)
    expect(readdirSync(folder).sort()).toEqual(['files', 'images', 'manifest.json', 'relay.sqlite'])

    const checked = await admin(relay, ['backup', 'check', folder])
    expect(checked.code).toBe(0)
    expect(checked.stdout).toMatch(/^integrity\s+ok$/m)
    expect(checked.stdout).toMatch(new RegExp(`messages ${messages},`))
    expect(checked.stdout).toMatch(/^pictures\s+\d+ file\(s\), 0 missing$/m)
    expect(checked.stdout).toMatch(/^files\s+1 stored, 0 missing$/m)
    expect(checked.last).toBe('the backup is sound')

    // A folder that is there already is never written into.
    const again = await admin(relay, ['backup', folder])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/not empty/)

    const audit = await admin(relay, ['audit'])
    expect(audit.stdout).toMatch(/\tbackup\.create\t/)
    expect(audit.stdout).toMatch(/\tbackup\.check\t\{[^\n]*"sound":true/)
  })

  it('the check fails on a damaged database, a missing picture and a missing file', {
    timeout: CLI_TEST_MS,
  }, async ({ relay }) => {
    const [alice] = await registerContacts(relay.url)
    const picture = await upload(relay.url, alice.token, await makeImage('png', 30, 30, '#654321'))
    const fileBytes = pdfBytes(3000)
    await uploaded(alice, fileBytes, 'lost.pdf')
    const folder = newFolder()
    expect((await admin(relay, ['backup', folder])).code).toBe(0)
    const blob = createHash('sha256').update(fileBytes).digest('hex')
    rmSync(path.join(folder, 'files', blob.slice(0, 2), blob))
    const fileMissing = await admin(relay, ['backup', 'check', folder])
    expect(fileMissing.code).toBe(1)
    expect(fileMissing.stdout).toMatch(/^files\s+\d+ stored, 1 missing$/m)

    const id = picture.body.image.id
    rmSync(path.join(folder, 'images', id.slice(0, 2), id))
    const missing = await admin(relay, ['backup', 'check', folder])
    expect(missing.code).toBe(1)
    expect(missing.stdout).toMatch(/^pictures\s+\d+ file\(s\), 1 missing$/m)
    expect(missing.stderr).toMatch(/NOT sound/)

    // Garbage over the pages after the first: the header still opens, the b-trees do not add up.
    const file = path.join(folder, 'relay.sqlite')
    const fd = openSync(file, 'r+')
    const size = statSync(file).size
    writeSync(fd, Buffer.alloc(Math.min(64 * 1024, size - 4096), 0x5a), 0, undefined, 4096)
    const damaged = await admin(relay, ['backup', 'check', folder])
    expect(damaged.code).toBe(1)
    expect(damaged.stdout).not.toMatch(/^integrity\s+ok$/m)
    expect(damaged.stderr).toMatch(/NOT sound/)

    const nowhere = await admin(relay, ['backup', 'check', path.join(scratch, 'no-such-backup')])
    expect(nowhere.code).toBe(1)
    expect(nowhere.stderr).toMatch(/cannot be opened/)
  })
})
