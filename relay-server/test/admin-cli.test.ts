import { mkdir, writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import path from 'node:path'
import type { AuthResponse } from '@parley/shared'
import { describe, expect } from 'vitest'
import { admin, CLI_TEST_MS } from './helpers/admin'
import { connect, http, nextEvent } from './helpers/client'
import { dialects } from './helpers/dialects'
import { relayTests, type TestRelay } from './helpers/relay'

const login = (relay: TestRelay, username: string, password: string) =>
  http<AuthResponse & { error: { code: string } }>(relay.url, 'POST', '/login', {
    body: { username, password },
  })

const register = (relay: TestRelay, username: string, invite: string) =>
  http<AuthResponse & { error: { code: string } }>(relay.url, 'POST', '/users', {
    body: {
      username,
      password: 'correct horse battery',
      firstName: 'In',
      lastName: 'Vited',
      email: `${username}@example.com`,
      invite,
    },
  })

const withRelay = relayTests({ env: { REGISTRATION: 'invite' }, sessionSweepMs: 100 })

describe.each(dialects)('parley-relay admin, against a running relay (%s)', (dialect) => {
  const it = withRelay[dialect]
  const tag = Math.random().toString(36).slice(2, 6)

  it('creates, lists and revokes invites; the code is alone on the last line', {
    timeout: CLI_TEST_MS,
  }, async ({ relay }) => {
    const made = await admin(relay, ['invite', 'create', '--uses', '1', '--expires', '7d'])
    expect(made.code).toBe(0)
    expect(made.last).toMatch(/^[A-Za-z0-9]{22}$/)
    expect((await register(relay, `inv${tag}a`, made.last)).status).toBe(201)
    expect((await register(relay, `inv${tag}b`, made.last)).body.error.code).toBe('invite_required')

    const spare = (await admin(relay, ['invite', 'create', '--uses', '3'])).last
    const listed = await admin(relay, ['invite', 'list'])
    expect(listed.stdout).toMatch(new RegExp(`${made.last}\\s+1/1 used\\s+expires \\S+\\s+used up`))
    expect(listed.stdout).toMatch(new RegExp(`${spare}\\s+0/3 used\\s+expires never\\s+active`))
    expect((await admin(relay, ['invite', 'revoke', spare])).code).toBe(0)
    expect((await register(relay, `inv${tag}c`, spare)).body.error.code).toBe('invite_required')
    const again = await admin(relay, ['invite', 'revoke', spare])
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/not revoked already/)])
  })

  it('creates users, resets passwords, lists, makes admins and deactivates', {
    timeout: CLI_TEST_MS,
  }, async ({ relay }) => {
    const carol = `carol${tag}`
    const created = await admin(relay, [
      'user',
      'create',
      carol,
      '--first-name',
      'Carol',
      '--last-name',
      'Shaw',
    ])
    expect(created.code).toBe(0)
    const first = await login(relay, carol, created.last)
    expect(first.status).toBe(200)

    const piped = await admin(
      relay,
      ['user', 'create', `dave${tag}`, '--password-stdin'],
      'a chosen password\n',
    )
    expect(piped.code).toBe(0)
    expect(piped.stdout).not.toContain('a chosen password')
    expect((await login(relay, `dave${tag}`, 'a chosen password')).status).toBe(200)

    const socket = await connect(relay.url, first.body.token)
    // The wait covers the command too, which takes seconds on a busy machine.
    const ended = nextEvent(socket, 'session_ended', () => true, CLI_TEST_MS)
    const reset = await admin(relay, ['user', 'reset-password', carol])
    expect(reset.stdout).toMatch(/1 session\(s\) signed out/)
    // The relay cuts the signed-out session's socket itself, soon after the command.
    expect(await ended).toEqual({ reason: 'signed_out' })
    socket.close()
    expect((await http(relay.url, 'GET', '/session', { token: first.body.token })).status).toBe(401)
    expect((await login(relay, carol, created.last)).status).toBe(401)
    const second = await login(relay, carol, reset.last)
    expect(second.status).toBe(200)

    const listed = await admin(relay, ['user', 'list', '--q', `CAROL${tag}`])
    expect(listed.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`\\t${carol}\\tCarol Shaw\\t`)),
    ])

    expect((await admin(relay, ['user', 'make-admin', carol])).code).toBe(0)
    expect((await admin(relay, ['user', 'list', '--q', carol])).stdout).toMatch(/\tadmin\n/)

    expect((await admin(relay, ['user', 'deactivate', carol])).code).toBe(0)
    expect((await http(relay.url, 'GET', '/session', { token: second.body.token })).status).toBe(401)
    const refused = await login(relay, carol, reset.last)
    expect([refused.status, refused.body.error.code]).toEqual([403, 'account_deactivated'])
    expect((await admin(relay, ['user', 'list', '--q', carol])).stdout).toMatch(/\tadmin,deactivated\n/)

    const missing = await admin(relay, ['user', 'make-admin', `nobody${tag}`])
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/No user is called/)])
    const weak = await admin(relay, ['user', 'create', `erin${tag}`, '--password-stdin'], 'short')
    expect([weak.code, weak.stderr]).toEqual([1, expect.stringMatching(/password/)])
    const unknown = await admin(relay, ['user', 'frobnicate'])
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringMatching(/unknown command/)])
  })

  it('shows figures, and an audit log of everything done, by whom', { timeout: CLI_TEST_MS }, async ({
    relay,
  }) => {
    const users = await relay.app.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    // Two files of one user (the second a copy of the first: one blob), and a group.
    const owner = await relay.app.db.selectFrom('users').select('id').limit(1).executeTakeFirstOrThrow()
    const file = {
      owner_id: owner.id,
      blob: 'b'.repeat(64),
      name: 'a.pdf',
      size: 3,
      type: 'application/pdf',
      // Uploaded now: older unsent uploads are collected by the relay's first sweep, a minute after
      // it starts, which a slow run of this file reaches (it once emptied the files under the count).
      created_at: Date.now(),
    }
    await relay.app.db
      .insertInto('files')
      .values([
        { ...file, id: `stats-${tag}-1` },
        { ...file, id: `stats-${tag}-2` },
      ])
      .execute()
    await mkdir(path.join(relay.config.dataDir, 'files'), { recursive: true })
    await writeFile(path.join(relay.config.dataDir, 'files', `stats-${tag}`), Buffer.alloc(3 * 1024 * 1024))
    const files = await relay.app.db
      .selectFrom('files')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    const stats = await admin(relay, ['stats'])
    expect(stats.code).toBe(0)
    expect(stats.stdout).toMatch(new RegExp(`^files\\s+${Number(files.n)}$`, 'm'))
    expect(Number(files.n)).toBeGreaterThanOrEqual(2)
    expect(stats.stdout).toMatch(/^groups\s+\d+$/m)
    expect(stats.stdout).toMatch(/^file data\s+[3-9]\.\d MiB$/m)
    expect(stats.stdout).toMatch(new RegExp(`^users\\s+${Number(users.n)} \\(1 deactivated\\)$`, 'm'))
    expect(stats.stdout).toMatch(/^sessions\s+\d+$/m)
    expect(stats.stdout).toMatch(/^messages\s+0$/m)
    expect(stats.stdout).toMatch(/^database\s+\d+\.\d MiB$/m)

    const audit = await admin(relay, ['audit'])
    const actions = audit.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'))
    const who = userInfo().username
    expect(actions.map(([, actor, action]) => `${actor} ${action}`)).toEqual(
      [
        'invite.create',
        'invite.create',
        'invite.revoke',
        'user.create',
        'user.create',
        'user.reset_password',
        'user.make_admin',
        'user.deactivate',
      ].map((action) => `${who} ${action}`),
    )
    expect(actions[7]?.[3]).toContain(`"username":"carol${tag}"`)
  })
})
