import { dmKey } from '@parley/shared'
import type { Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bubble,
  canRunE2e,
  connect,
  idOf,
  messageLog,
  openChat,
  type Person,
  screenshots,
  until,
  World,
} from './harness'

/** Every text in a person's conversation with `peerUsername`, oldest first, from their own core. */
async function texts(person: Person, peerUsername: string): Promise<string[]> {
  const peerId = await idOf(person, peerUsername)
  const core = person.host.core
  const all: string[] = []
  let before: number | undefined
  for (;;) {
    const page = await core.call('messages.page', {
      conversation: dmKey(peerId),
      limit: 200,
      ...(before && { before }),
    })
    if (!page.ok) throw new Error(page.error.message)
    all.push(...page.value.messages.map((m) => m.text ?? ''))
    if (page.value.nextBefore === null) return all.reverse()
    before = page.value.nextBefore
  }
}

/** Types each message key by key (as a person does, `delay` ms a key) and presses Enter after each. */
async function typeMessages(page: Page, messages: readonly string[], delay: number): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).click()
  for (const message of messages) {
    await page.keyboard.type(message, { delay })
    await page.keyboard.press('Enter', { delay })
  }
}

/** Delays every frame between the page and its app by `ms`, both ways (a slow machine). */
async function slowLink(page: Page, ms: number): Promise<void> {
  await page.routeWebSocket(/\/bridge/, (ws) => {
    const server = ws.connectToServer()
    ws.onMessage((message) => setTimeout(() => server.send(message), ms))
    server.onMessage((message) => setTimeout(() => ws.send(message), ms))
  })
  await page.reload()
  await page.getByRole('button', { name: 'Your profile' }).waitFor()
}

describe.skipIf(!canRunE2e)('nothing typed is lost, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await world.registered('Alice', 'Bob', 'Carol')
    await connect(alice, bob)
    await connect(carol, bob)
    await openChat(alice.page, 'Bob')
  }, 90_000)
  afterAll(() => world.stop(), 60_000)

  const quick = Array.from({ length: 200 }, (_, i) => `quick ${i + 1}`)

  /** What each side's store holds of a conversation, and how much of it is the burst, whole and in place. */
  async function tally(from: Person, to: Person, label: string) {
    await until(async () => (await texts(to, from.username)).length >= quick.length, 90_000)
    const sent = await texts(from, to.username)
    const received = await texts(to, from.username)
    console.info(
      `fast typing${label}: ${quick.length} typed, ${sent.length} in the sender's store, ${received.length} arrived, ` +
        `${received.filter((t, i) => t === quick[i]).length} whole and in place`,
    )
    return { sent, received }
  }

  it('200 messages typed at 20 ms a key all arrive whole and in order, also over a link 300 ms late each way', {
    timeout: 240_000,
  }, async () => {
    // Carol's page talks to her app through a slow link; Alice's directly. Both type at once.
    await slowLink(carol.page, 300)
    await openChat(carol.page, 'Bob')
    await Promise.all([typeMessages(alice.page, quick, 20), typeMessages(carol.page, quick, 20)])
    // Shown the moment it was sent, before the app (300 ms away) has even heard of it.
    await bubble(carol.page, 'quick 200').waitFor({ timeout: 500 })
    // The box was free for each next message: nothing is left in it.
    for (const person of [alice, carol])
      expect(await person.page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('')

    for (const [from, label] of [
      [alice, ''],
      [carol, ' over a 300 ms link'],
    ] as const) {
      const { sent, received } = await tally(from, bob, label)
      expect(sent).toEqual(quick)
      expect(received).toEqual(quick)
    }
    // Once confirmed, each shows once: no pending copy is left beside the stored one.
    for (const person of [alice, carol]) {
      await until(
        async () => (await messageLog(person.page).getByText('quick 200', { exact: true }).count()) === 1,
      )
    }
  })

  it('a 100 KB paste is kept whole, refused as one message, and sent as several on request', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    const sentence = (i: number) => `Line ${i} of the pasted report, which goes on for a while.`
    const paragraphs = Array.from({ length: 220 }, (_, p) =>
      Array.from({ length: 8 }, (_, s) => sentence(p * 8 + s)).join(' '),
    )
    const report = paragraphs.join('\n\n')
    expect(report.length).toBeGreaterThan(100_000)
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
    await page.evaluate((text) => {
      const web = globalThis as unknown as {
        navigator: { clipboard: { writeText(t: string): Promise<void> } }
      }
      return web.navigator.clipboard.writeText(text)
    }, report)
    const box = page.getByRole('textbox', { name: 'Message' })
    await box.click()
    await page.keyboard.press('ControlOrMeta+V')
    await expect.poll(() => box.inputValue()).toBe(report)
    const notice = page.getByRole('status').filter({ hasText: 'Nothing has been cut' })
    await notice.waitFor()
    expect(await notice.textContent()).toContain(`${report.length.toLocaleString('en-US')} characters`)
    expect(await page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(true)
    // Enter does not send it, and does not cut it.
    const before = (await texts(bob, alice.username)).length
    await box.press('Enter')
    expect(await box.inputValue()).toBe(report)
    await screenshots(page, 'composer-too-long')
    const offer = page.getByRole('button', { name: /^Send as \d+ messages$/ })
    const count = Number((await offer.textContent())?.match(/\d+/)?.[0])
    expect(count).toBeGreaterThan(25)
    await offer.click()
    expect(await box.inputValue()).toBe('')
    await until(async () => (await texts(bob, alice.username)).length === before + count, 30_000)
    const parts = (await texts(bob, alice.username)).slice(before)
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(4000)
    const squash = (text: string) => text.replace(/\s+/g, ' ').trim()
    expect(squash(parts.join(' '))).toBe(squash(report))
  })

  it('a text file named .png is refused before any preview; a picture the relay refuses offers no retry', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    const choose = async (name: string, buffer: Buffer) => {
      const chooser = page.waitForEvent('filechooser')
      await page.getByRole('button', { name: 'Attach file' }).click()
      await (await chooser).setFiles({ name, mimeType: 'image/png', buffer })
    }
    await choose('notes.png', Buffer.from('These are my notes, not a picture.\n'.repeat(20)))
    await page.getByRole('alert').filter({ hasText: '“notes.png” is not a picture' }).waitFor()
    expect(await page.getByRole('button', { name: 'Remove picture' }).count()).toBe(0)
    await screenshots(page, 'composer-not-a-picture')

    // Its header says PNG, its body is garbage: only decoding it (on the relay) finds out.
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer()
    await choose('damaged.png', Buffer.concat([png.subarray(0, 33), Buffer.alloc(300, 9)]))
    await page.getByRole('button', { name: 'Remove picture' }).waitFor()
    await page.getByRole('textbox', { name: 'Message' }).fill('a damaged picture')
    await page.keyboard.press('Enter')
    const failed = bubble(page, 'a damaged picture')
    await failed.getByText(/Not sent/).waitFor()
    expect(await failed.getByRole('button', { name: 'Retry' }).count()).toBe(0)
    await failed.getByRole('button', { name: 'Discard' }).click()
    await failed.waitFor({ state: 'detached' })
  })

  it('the picture input is not a second control beside the Attach button', async () => {
    const page = alice.page
    expect(await page.getByRole('button', { name: 'Picture to send' }).count()).toBe(0)
    expect(await page.getByLabel('Picture to send').count()).toBe(0)
    const inputs = await page
      .locator('input[type="file"]')
      .evaluateAll((els) => els.map((el) => (el as unknown as { hidden: boolean }).hidden))
    expect(inputs.every(Boolean)).toBe(true)
  })
})
