import net from 'node:net'
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canRunE2e, type Person, screenshots, World } from './harness'

/** This machine's first address on a real network, if it has one (not loopback). */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address

/** Listens on every interface and forwards to a loopback port: the relay as another computer sees it. */
async function forward(targetPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

describe.skipIf(!canRunE2e || !lanAddress)('a plain http relay on another computer (L7)', () => {
  const world = new World()
  let alice: Person
  let forwarder: Awaited<ReturnType<typeof forward>>
  let remoteUrl: string

  beforeAll(async () => {
    await world.start()
    alice = await world.person('Alice')
    forwarder = await forward(Number(new URL(alice.proxy.url).port))
    remoteUrl = `http://${lanAddress}:${forwarder.port}`
  }, 60_000)
  afterAll(async () => {
    await world.stop()
    await forwarder?.close()
  }, 60_000)

  it('warns, refuses until the user accepts in words that it is unencrypted, then signs up', {
    timeout: 40_000,
  }, async () => {
    const { page } = alice
    const consent = page.getByRole('checkbox', {
      name: 'I understand that my password and messages will cross the network unencrypted, and I want to use this relay anyway.',
    })
    const warning = page.getByRole('group', { name: 'This relay is not encrypted' })
    await page.getByRole('tab', { name: 'Create account' }).click()
    // A loopback http address (this computer) and https need no consent.
    await page.getByLabel('Relay address').fill('http://localhost:8080')
    expect(await warning.count()).toBe(0)
    await page.getByLabel('Relay address').fill('https://chat.example.org')
    expect(await warning.count()).toBe(0)

    await page.getByLabel('Relay address').fill(remoteUrl)
    await warning.waitFor()
    expect(await warning.textContent()).toMatch(
      /password and\s+every message would cross the network in clear/,
    )
    await page.getByLabel('Username').fill(alice.username)
    await page.getByLabel('Password', { exact: true }).fill('correct horse battery')
    await page.getByLabel('First name').fill('Alice')
    await page.getByLabel('Last name').fill('Tester')
    await page.getByLabel('Email').fill(`${alice.username}@example.org`)
    await page.getByRole('button', { name: 'Create account' }).click()
    // Refused in the page: nothing went to the relay.
    expect(await consent.getAttribute('aria-invalid')).toBe('true')
    const describedBy = (await consent.getAttribute('aria-describedby'))!
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toMatch(
      /https:\/\/ address, or tick the box/,
    )
    expect(await consent.evaluate((el) => el.matches(':focus'))).toBe(true)
    expect((await alice.host.core.call('auth.session', {})).ok && null).toBeNull()
    await screenshots(page, 'cleartext-relay-warning')

    // The core refuses too when the page does not pass the consent (an older or tampered page).
    const bare = await alice.host.core.call('auth.login', {
      relayUrl: remoteUrl,
      username: alice.username,
      password: 'correct horse battery',
    })
    expect(bare).toMatchObject({ ok: false, error: { code: 'insecure_relay' } })

    // Changing the address takes the consent back; accepting lets the account through.
    await consent.check()
    await page.getByLabel('Relay address').fill(`${remoteUrl}/`)
    expect(await consent.isChecked()).toBe(false)
    await consent.check()
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('button', { name: 'Your profile' }).waitFor()
    const session = await alice.host.core.call('auth.session', {})
    expect(session.ok && session.value?.relayUrl).toBe(remoteUrl)
  })
})
