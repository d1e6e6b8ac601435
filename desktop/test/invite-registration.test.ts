import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInvite } from '../../relay-server/src/admin/operations'
import { openDatabase } from '../../relay-server/src/db/connect'
import { startCore, type TestCore } from './helpers/core'
import { startRelay, type TestRelay } from './helpers/relay'

let relay: TestRelay
const cores: TestCore[] = []
beforeAll(async () => {
  relay = await startRelay({ env: { REGISTRATION: 'invite' } })
})
afterAll(async () => {
  for (const core of cores) await core.dispose()
  await relay.close()
})

describe('registering on a relay that needs an invite', () => {
  it('the app passes the invite code on, and says invite_required without one', async () => {
    const core = await startCore()
    cores.push(core)
    const username = `inv${process.pid}${Math.random().toString(36).slice(2, 6)}`
    const details = {
      relayUrl: relay.url,
      username,
      password: 'correct horse battery',
      firstName: 'In',
      lastName: 'Vited',
      email: `${username}@example.com`,
    }
    const refused = await core.call('auth.register', details)
    expect(refused).toMatchObject({ ok: false, error: { code: 'invite_required' } })
    // As the operator would: `parley-relay admin invite create`, on the relay's data.
    const handle = openDatabase({ dataDir: relay.config.dataDir })
    const ctx = { ...handle, dataDir: relay.config.dataDir, actor: 'test', now: Date.now }
    const { code } = await createInvite(ctx, { uses: 1, expiresInMs: null }).finally(() =>
      handle.db.destroy(),
    )
    const session = await core.ok('auth.register', { ...details, invite: code })
    expect(session.user.username).toBe(username)
  })
})
