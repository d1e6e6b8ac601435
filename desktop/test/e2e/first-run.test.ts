import http from 'node:http'
import net from 'node:net'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createInvite } from '../../../relay-server/src/admin/operations'
import { openDatabase } from '../../../relay-server/src/db/connect'
import { startRelay } from '../helpers/relay'
import {
  bubble,
  canRunE2e,
  chatRow,
  connect,
  openChat,
  type Person,
  register,
  screenshots,
  send,
  World,
} from './harness'

/**
 * What the first-run screen says about a field: null while the field is valid, else the text of
 * the error it is described by, which must sit right under the field.
 */
async function fieldError(page: Page, label: string): Promise<string | null> {
  const input = page.getByLabel(label, { exact: true })
  if ((await input.getAttribute('aria-invalid')) !== 'true') return null
  const id = await input.getAttribute('aria-describedby')
  if (!id) return '(marked invalid, but no message describes it)'
  const message = page.locator(`[id="${id}"]`)
  const field = (await input.boundingBox())!
  const under = (await message.boundingBox())!
  const nextToIt = under.y >= field.y + field.height - 1 && under.y < field.y + field.height + 30
  return nextToIt ? (await message.textContent())!.trim() : '(the message is not next to the field)'
}

/** A port on this machine where nothing listens. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  await new Promise((resolve) => server.close(resolve))
  return address.port
}

const PASSWORD = 'correct horse battery'

describe.skipIf(!canRunE2e)('first run in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  /** Alice's second computer. */
  let laptop: Person

  beforeAll(async () => {
    await world.start()
    alice = await world.person('Alice')
    bob = await world.person('Bob')
    laptop = await world.person('Alice')
    laptop.username = alice.username
    await register(bob)
  }, 60_000)
  afterAll(() => world.stop(), 60_000)

  it('the relay address is prefilled, and an empty form says next to each field what it needs', {
    timeout: 30_000,
  }, async () => {
    const page = alice.page
    await page.getByRole('tab', { name: 'Sign in', selected: true }).waitFor()
    expect(await page.getByLabel('Relay address').inputValue()).toBe('http://127.0.0.1:8080')

    await page.getByRole('button', { name: 'Sign in' }).click()
    expect(await fieldError(page, 'Relay address')).toBeNull()
    expect(await fieldError(page, 'Username')).toBe('Enter your username')
    expect(await fieldError(page, 'Password')).toBe('Enter your password')
    // The first field to fix has the focus (soft: the rest of the story still runs when it fails).
    expect.soft(await page.getByLabel('Username').evaluate((el) => el.matches(':focus'))).toBe(true)

    // Creating an account asks for more, and starts without the other tab's complaints.
    await page.getByRole('tab', { name: 'Create account' }).click()
    expect(await fieldError(page, 'Username')).toBeNull()
    await page.getByRole('button', { name: 'Create account' }).click()
    expect(await fieldError(page, 'Username')).toBe('3 to 32 letters, digits, dots, dashes or underscores')
    expect(await fieldError(page, 'Password')).toBe('At least 8 characters')
    expect(await fieldError(page, 'First name')).toBe('Enter your first name')
    expect(await fieldError(page, 'Last name')).toBe('Enter your last name')
    expect(await fieldError(page, 'Email')).toBe('Enter an email address')
    await page.getByLabel('Relay address').fill('')
    expect(await fieldError(page, 'Relay address')).toBe(
      'Enter the relay address, like https://chat.example.org',
    )
    // Fixing a field clears its message as you type.
    await page.getByLabel('Email').fill('alice@example')
    expect(await fieldError(page, 'Email')).toBe('Enter an email address')
    await page.getByLabel('Email').fill('alice@example.org')
    expect(await fieldError(page, 'Email')).toBeNull()
    await screenshots(page, 'first-run')
  })

  it('an address where no relay answers says the relay cannot be reached', { timeout: 20_000 }, async () => {
    const page = alice.page
    const nowhere = `http://127.0.0.1:${await closedPort()}`
    await page.getByRole('tab', { name: 'Sign in' }).click()
    await page.getByLabel('Relay address').fill(nowhere)
    await page.getByLabel('Username').fill(alice.username)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect(await alert.textContent()).toMatch(new RegExp(`Cannot reach the relay at ${nowhere}`))
    // The button is usable again for the next try.
    await page.getByRole('button', { name: 'Sign in' }).waitFor()
    expect(await page.getByRole('button', { name: 'Sign in' }).isEnabled()).toBe(true)
  })

  it('an address where a web server that is not Parley answers says so under the relay address', {
    timeout: 20_000,
  }, async () => {
    const server = http.createServer((_, response) => {
      response.writeHead(405, { 'content-type': 'text/html' }).end('<h1>405 Not Allowed</h1>')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const website = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
    try {
      const page = alice.page
      await page.getByRole('tab', { name: 'Sign in' }).click()
      await page.getByLabel('Relay address').fill(website)
      await page.getByLabel('Username').fill(alice.username)
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.getByLabel('Relay address').and(page.locator('[aria-invalid="true"]')).waitFor()
      expect(await fieldError(page, 'Relay address')).toBe(
        `${website} is not a Parley relay (it answered 405)`,
      )
      await screenshots(page, 'first-run-not-a-relay')
      // Fixing the address clears the complaint.
      await page.getByLabel('Relay address').fill(alice.proxy.url)
      expect(await fieldError(page, 'Relay address')).toBeNull()
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('a username someone has is marked on the Username field; another one creates the account', {
    timeout: 30_000,
  }, async () => {
    const page = alice.page
    await page.getByRole('tab', { name: 'Create account' }).click()
    await page.getByLabel('Relay address').fill(alice.proxy.url)
    await page.getByLabel('Username').fill(bob.username)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByLabel('First name').fill('Alice')
    await page.getByLabel('Last name').fill('Tester')
    await page.getByLabel('Email').fill(`${alice.username}@example.org`)
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByLabel('Username').and(page.locator('[aria-invalid="true"]')).waitFor()
    expect(await fieldError(page, 'Username')).toBe(`The username '${bob.username}' is taken`)
    expect(await fieldError(page, 'Password')).toBeNull()

    await page.getByLabel('Username').fill(alice.username)
    expect(await fieldError(page, 'Username')).toBeNull()
    await page.getByRole('button', { name: 'Create account' }).click()
    await page.getByRole('button', { name: 'Your profile' }).getByText('Alice Tester').waitFor()
  })

  it('on a second computer, a wrong password shows the relay’s answer, and the right one opens her chats', {
    timeout: 40_000,
  }, async () => {
    await connect(alice, bob)
    await openChat(alice.page, 'Bob')
    await send(alice.page, 'See you at the market')

    const page = laptop.page
    await page.getByLabel('Relay address').fill(laptop.proxy.url)
    await page.getByLabel('Username').fill(alice.username)
    await page.getByLabel('Password').fill('correct horse battery staple')
    await page.getByRole('button', { name: 'Sign in' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    expect((await alert.textContent())?.trim()).toBe(
      `Wrong username or password for the relay at ${laptop.proxy.url}`,
    )
    expect(await page.getByRole('button', { name: 'Your profile' }).count()).toBe(0)

    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('button', { name: 'Your profile' }).getByText('Alice Tester').waitFor()
    await chatRow(page, 'Bob').getByText('See you at the market').waitFor()
    await openChat(page, 'Bob')
    await bubble(page, 'See you at the market').waitFor()
  })

  it('signing out from Settings returns to sign-in; signing in again finds what this computer kept', {
    timeout: 40_000,
  }, async () => {
    const page = alice.page
    // A draft never leaves this computer: seeing it again proves the chats came from its cache.
    await page.getByRole('textbox', { name: 'Message' }).fill('a thought for later')
    await page.waitForTimeout(700)

    await page.getByRole('button', { name: 'Settings' }).click()
    await page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('tab', { name: 'Sign in', selected: true }).waitFor()
    expect(await page.getByRole('button', { name: 'Your profile' }).count()).toBe(0)
    // The relay she used is remembered.
    expect(await page.getByLabel('Relay address').inputValue()).toBe(alice.proxy.url)

    await openChat(bob.page, 'Alice')
    await send(bob.page, 'Are you still coming?')

    await page.getByLabel('Username').fill(alice.username)
    await page.getByLabel('Password').fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await chatRow(page, 'Bob').waitFor()
    await openChat(page, 'Bob')
    await bubble(page, 'See you at the market').waitFor()
    await bubble(page, 'Are you still coming?').waitFor()
    await expect
      .poll(() => page.getByRole('textbox', { name: 'Message' }).inputValue())
      .toBe('a thought for later')
  })

  it('another browser opening this app is offered the relay it used last', { timeout: 30_000 }, async () => {
    // A fresh profile: nothing in its storage, so only the app itself can know the relay.
    const context = await world.browser.newContext({ viewport: { width: 1120, height: 720 } })
    try {
      const page = await context.newPage()
      await page.goto(alice.host.url)
      await page.getByRole('button', { name: 'Your profile' }).waitFor()
      await page.getByRole('button', { name: 'Settings' }).click()
      await page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Sign out' }).click()
      await page.getByRole('tab', { name: 'Sign in', selected: true }).waitFor()
      expect(await page.getByLabel('Relay address').inputValue()).toBe(alice.proxy.url)

      const later = await world.browser.newContext()
      try {
        const fresh = await later.newPage()
        await fresh.goto(alice.host.url)
        await fresh.getByRole('tab', { name: 'Sign in', selected: true }).waitFor()
        expect(await fresh.getByLabel('Relay address').inputValue()).toBe(alice.proxy.url)
      } finally {
        await later.close()
      }
    } finally {
      await context.close()
    }
  })
  it('a relay that takes people by invitation says so under the invite code, and the code lets her in', {
    timeout: 40_000,
  }, async () => {
    const relay = await startRelay({ env: { REGISTRATION: 'invite' } })
    try {
      const ivy = await world.person('Ivy')
      const page = ivy.page
      await page.getByRole('tab', { name: 'Create account' }).click()
      await page.getByLabel('Relay address').fill(relay.url)
      await page.getByLabel('Username').fill(ivy.username)
      await page.getByLabel('Password').fill(PASSWORD)
      await page.getByLabel('First name').fill('Ivy')
      await page.getByLabel('Last name').fill('Tester')
      await page.getByLabel('Email').fill(`${ivy.username}@example.org`)
      await page.getByRole('button', { name: 'Create account' }).click()
      const invite = 'Invite code (if the relay asks for one)'
      await page.getByLabel(invite).and(page.locator('[aria-invalid="true"]')).waitFor()
      expect(await fieldError(page, invite)).toBe(
        'This relay lets people in by invitation: enter the code its operator gave you.',
      )
      await screenshots(page, 'first-run-invite')
      // As the operator would: `parley-relay admin invite create`, on the relay's data.
      const handle = openDatabase({ dataDir: relay.config.dataDir })
      const ctx = { ...handle, dataDir: relay.config.dataDir, actor: 'test', now: Date.now }
      const { code } = await createInvite(ctx, { uses: 1, expiresInMs: null }).finally(() =>
        handle.db.destroy(),
      )
      await page.getByLabel(invite).fill(code)
      await page.getByRole('button', { name: 'Create account' }).click()
      await page.getByRole('button', { name: 'Your profile' }).getByText('Ivy Tester').waitFor()
    } finally {
      await relay.close()
    }
  })
})
