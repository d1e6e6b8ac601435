import type { Locator } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  canRunE2e,
  chatRow,
  idOf,
  messageWith,
  openChat,
  type Person,
  screenshots,
  until,
  World,
  write,
} from './harness'

/** Whether the element is painted (Playwright counts `visibility: hidden` as not visible). */
const shown = (locator: Locator) => locator.isVisible()

describe.skipIf(!canRunE2e)('formatting, big emoji, runs of messages and links, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.contacts('Alice', 'Bob')
    const bobId = await idOf(alice, bob.username)
    const made = await alice.host.core.call('groups.create', { title: 'Weekend plans', memberIds: [bobId] })
    if (!made.ok) throw new Error(made.error.message)
    await chatRow(bob.page, 'Weekend plans').waitFor()
    await openChat(alice.page, 'Weekend plans')
    await openChat(bob.page, 'Weekend plans')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('formatting is shown as elements, and text that looks like HTML stays text', {
    timeout: 60_000,
  }, async () => {
    await write(bob.page, 'Plans for *Saturday*: _bring_ ~snacks~ drinks, and run `npm start` first')
    await write(bob.page, '```\nconst meet = "10:00"\nconst where = *not bold*\n```')
    await write(bob.page, '<b>not bold</b> <img src=x onerror=alert(1)>')
    const page = alice.page

    const plans = messageWith(page, 'Plans for')
    await plans.waitFor()
    expect(await plans.locator('strong').textContent()).toBe('Saturday')
    expect(await plans.locator('em').textContent()).toBe('bring')
    expect(await plans.locator('s').textContent()).toBe('snacks')
    expect(await plans.locator('code').textContent()).toBe('npm start')
    expect(await plans.locator('.text').textContent()).toBe(
      'Plans for Saturday: bring snacks drinks, and run npm start first',
    )

    const code = messageWith(page, 'const meet')
    await code.waitFor()
    expect(await code.locator('pre').textContent()).toBe('const meet = "10:00"\nconst where = *not bold*')
    expect(await code.locator('strong').count()).toBe(0)

    const html = messageWith(page, 'not bold</b>')
    await html.waitFor()
    expect(await html.locator('.text').textContent()).toBe('<b>not bold</b> <img src=x onerror=alert(1)>')
    expect(await html.locator('b, img').count()).toBe(0)
  })

  it('one to three emoji alone are large, without a bubble', async () => {
    await write(bob.page, '🎉🥳')
    await write(bob.page, 'ok 🎉')
    const big = messageWith(alice.page, '🎉🥳')
    await big.waitFor()
    const size = (bubble: Locator) =>
      bubble.locator('.text').evaluate((el) => {
        const page = globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } }
        return Number.parseFloat(page.getComputedStyle(el).fontSize)
      })
    expect(await size(big)).toBeGreaterThanOrEqual(34)
    expect(await size(messageWith(alice.page, 'ok 🎉'))).toBeLessThan(20)
    expect(await big.locator('.bubble.big-emoji').count()).toBe(1)
  })

  it('a run of messages from one sender has one name and one picture; the time shows on its last', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    // Everything Bob wrote above is one run (written within minutes, nobody in between).
    const run = page.getByRole('log').locator('article.message:not(.event)')
    const count = await run.count()
    expect(count).toBeGreaterThanOrEqual(5)
    expect(await run.locator('.sender').count()).toBe(1)
    expect(await run.locator('.sender-avatar').count()).toBe(1)
    expect(await run.first().locator('.sender').textContent()).toBe('Bob Tester')
    expect(await shown(run.nth(count - 1).locator('.meta time'))).toBe(true)
    expect(await shown(run.first().locator('.meta time'))).toBe(false)
    // Pointed at, a message of the run shows its time (in its toolbar).
    await run.first().hover()
    const time = run.first().getByRole('toolbar').locator('time')
    await time.waitFor()
    expect(await time.textContent()).toBe(await run.first().locator('.meta time').textContent())

    // Alice answers: a run of her own, then Bob again starts a new run, named again.
    await write(page, 'Count me in!')
    await write(page, 'I will bring **cake**')
    await write(bob.page, 'Great, see you _there_')
    await messageWith(page, 'see you there').waitFor()
    expect(await messageWith(page, 'see you there').locator('.sender').count()).toBe(1)
    // The chat list's preview gives the words, not the formatting marks.
    await until(async () =>
      ((await chatRow(page, 'Weekend plans').locator('.preview').textContent()) ?? '').includes(
        'Bob: Great, see you there',
      ),
    )
    await screenshots(page, 'rich-messages-group')
  })

  it('a link shows its full address on hover and focus, and opens it in a new tab', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    await write(bob.page, 'Tickets at www.example.org/tickets_2025/weekend?seat=a_1 (hurry)')
    const message = messageWith(page, 'Tickets at')
    await message.waitFor()
    const link = message.getByRole('link', { name: 'www.example.org/tickets_2025/weekend?seat=a_1' })
    const full = 'https://www.example.org/tickets_2025/weekend?seat=a_1'
    expect(await link.getAttribute('href')).toBe(full)

    const status = page.locator('#link-status')
    await link.hover()
    await status.waitFor()
    expect(await status.textContent()).toBe(full)
    expect(await link.getAttribute('aria-describedby')).toBe('link-status')
    await page.mouse.move(2, 2)
    await status.waitFor({ state: 'detached' })

    await link.focus()
    await status.waitFor()
    expect(await status.textContent()).toBe(full)
    await screenshots(page, 'rich-messages-link')
    await link.blur()
    await status.waitFor({ state: 'detached' })

    // Opened outside the app (a new tab here; Electron hands it to the system browser).
    await alice.context.route('https://www.example.org/**', (route) =>
      route.fulfill({ contentType: 'text/plain', body: 'tickets' }),
    )
    const [tab] = await Promise.all([page.waitForEvent('popup'), link.click()])
    expect(tab.url()).toBe(full)
    await tab.close()
    expect(page.url()).toContain('127.0.0.1')
  })
})
