import { Writable } from 'node:stream'
import type { AuthResponse } from '@parley/shared'
import { describe, expect, it as plainIt } from 'vitest'
import {
  type AdminContext,
  createInvite,
  createUser,
  deactivateUser,
  revokeInvite,
} from '../src/admin/operations'
import { buildApp } from '../src/app'
import { loadConfig } from '../src/config'
import { http } from './helpers/client'
import { dialects } from './helpers/dialects'
import { relayTests, type TestRelay } from './helpers/relay'

let now = Date.UTC(2026, 0, 1)
const clock = () => now

const closed = relayTests({ env: { REGISTRATION: 'closed' } })
const byInvite = relayTests({ env: { REGISTRATION: 'invite' }, clock })
const open = relayTests()

let counter = 0
function account(extra: { invite?: string; email?: string } = {}) {
  counter += 1
  const username = `reg${process.pid}x${counter}${Math.random().toString(36).slice(2, 6)}`
  return {
    username,
    password: 'correct horse battery',
    firstName: 'Reg',
    lastName: 'Istrant',
    email: `${username}@example.com`,
    ...extra,
  }
}

function adminOf(relay: TestRelay): AdminContext {
  return {
    db: relay.app.db,
    dialect: relay.app.dbDialect,
    dataDir: relay.config.dataDir,
    actor: 'test',
    now: clock,
  }
}

const register = (relay: TestRelay, body: ReturnType<typeof account>) =>
  http<AuthResponse & { error: { code: string } }>(relay.url, 'POST', '/users', { body })

describe('REGISTRATION defaults', () => {
  plainIt('is open on loopback and by invitation when the relay listens elsewhere', () => {
    expect(loadConfig({}).registration).toBe('open')
    expect(loadConfig({ HOST: 'localhost' }).registration).toBe('open')
    expect(loadConfig({ HOST: '::1' }).registration).toBe('open')
    expect(loadConfig({ HOST: '0.0.0.0' }).registration).toBe('invite')
    expect(loadConfig({ HOST: '::' }).registration).toBe('invite')
    expect(loadConfig({ HOST: '192.168.1.5' }).registration).toBe('invite')
    expect(loadConfig({ HOST: '0.0.0.0', REGISTRATION: 'open' }).registration).toBe('open')
    expect(loadConfig({ REGISTRATION: 'closed' }).registration).toBe('closed')
    expect(() => loadConfig({ REGISTRATION: 'anyone' })).toThrow(
      /REGISTRATION must be open, invite or closed/,
    )
  })

  plainIt('says at start which mode the relay runs in', async () => {
    const lines: string[] = []
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const dataDir = mkdtempSync(`${tmpdir()}/parley-reg-`)
    const app = await buildApp(loadConfig({ HOST: '0.0.0.0', DATA_DIR: dataDir }), {
      logger: { level: 'info', stream },
    })
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
    const started = lines.map((line) => JSON.parse(line)).find((entry) => entry.registration !== undefined)
    expect(started?.registration).toBe('invite')
    expect(started?.msg).toMatch(/registration: invite .*reachable from other machines/)
  })
})

describe.each(dialects)('who may register (%s)', (dialect) => {
  open[dialect]('an open relay takes anyone, and ignores an invite field', async ({ relay }) => {
    expect((await register(relay, account())).status).toBe(201)
    expect((await register(relay, account({ invite: 'whatever' }))).status).toBe(201)
  })

  closed[dialect](
    'a closed relay refuses every registration; only its operator creates accounts',
    async ({ relay }) => {
      for (const body of [account(), account({ invite: 'abc' })]) {
        const refused = await register(relay, body)
        expect(refused.status).toBe(403)
        expect(refused.body.error.code).toBe('registration_closed')
      }
      const made = account()
      await createUser(adminOf(relay), made)
      const login = await http(relay.url, 'POST', '/login', {
        body: { username: made.username, password: made.password },
      })
      expect(login.status).toBe(200)
    },
  )

  const it = byInvite[dialect]

  it('needs an invite; unknown, used-up, expired and revoked codes are refused alike', async ({ relay }) => {
    const admin = adminOf(relay)
    const none = await register(relay, account())
    expect([none.status, none.body.error.code]).toEqual([403, 'invite_required'])
    const unknown = await register(relay, account({ invite: 'nosuchcode' }))
    expect([unknown.status, unknown.body.error.code]).toEqual([403, 'invite_required'])

    // A taken username is not revealed to someone without a good code.
    const existing = account({ invite: (await createInvite(admin, { uses: 1, expiresInMs: null })).code })
    expect((await register(relay, existing)).status).toBe(201)
    const probe = await register(relay, { ...existing, invite: 'nosuchcode' })
    expect(probe.body.error.code).toBe('invite_required')

    const twice = await createInvite(admin, { uses: 2, expiresInMs: null })
    expect((await register(relay, account({ invite: twice.code }))).status).toBe(201)
    expect((await register(relay, account({ invite: twice.code }))).status).toBe(201)
    const usedUp = await register(relay, account({ invite: twice.code }))
    expect([usedUp.status, usedUp.body.error.code]).toEqual([403, 'invite_required'])

    const weekly = await createInvite(admin, { uses: 5, expiresInMs: 7 * 86_400_000 })
    now += 7 * 86_400_000
    const expired = await register(relay, account({ invite: weekly.code }))
    expect([expired.status, expired.body.error.code]).toEqual([403, 'invite_required'])

    const revoked = await createInvite(admin, { uses: 5, expiresInMs: null })
    await revokeInvite(admin, revoked.code)
    const afterRevoke = await register(relay, account({ invite: revoked.code }))
    expect([afterRevoke.status, afterRevoke.body.error.code]).toEqual([403, 'invite_required'])
  })

  it('gives the use back when the registration itself fails', async ({ relay }) => {
    const taken = account({
      invite: (await createInvite(adminOf(relay), { uses: 2, expiresInMs: null })).code,
    })
    expect((await register(relay, taken)).status).toBe(201)
    const again = await register(relay, { ...taken, email: 'other@example.com' })
    expect(again.body.error.code).toBe('username_taken')
    // The failed attempt did not spend the second use.
    expect((await register(relay, account({ invite: taken.invite }))).status).toBe(201)
  })

  it('lets exactly one of two registrations racing for the last use through', async ({ relay }) => {
    const { code } = await createInvite(adminOf(relay), { uses: 1, expiresInMs: null })
    const results = await Promise.all(
      Array.from({ length: 6 }, () => register(relay, account({ invite: code }))),
    )
    expect(results.map((r) => r.status).sort()).toEqual([201, 403, 403, 403, 403, 403])
    const row = await relay.app.db
      .selectFrom('invites')
      .selectAll()
      .where('code', '=', code)
      .executeTakeFirst()
    expect(row?.used).toBe(1)
  })

  it('refuses a deactivated account its sign-in with account_deactivated', async ({ relay }) => {
    const body = account({
      invite: (await createInvite(adminOf(relay), { uses: 1, expiresInMs: null })).code,
    })
    const made = await register(relay, body)
    expect(made.status).toBe(201)
    await deactivateUser(adminOf(relay), body.username)
    const session = await http(relay.url, 'GET', '/session', { token: made.body.token })
    expect(session.status).toBe(401)
    const login = await http<{ error: { code: string } }>(relay.url, 'POST', '/login', {
      body: { username: body.username, password: body.password },
    })
    expect([login.status, login.body.error.code]).toEqual([403, 'account_deactivated'])
    const wrong = await http<{ error: { code: string } }>(relay.url, 'POST', '/login', {
      body: { username: body.username, password: 'not the password' },
    })
    expect(wrong.body.error.code).toBe('invalid_credentials')
  })
})
