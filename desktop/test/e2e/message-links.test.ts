import { dmKey } from '@parley/shared'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  canRunE2e,
  chatRow,
  clipboardText,
  idOf,
  messageMenu,
  messageWith,
  openChat,
  type Person,
  screenshots,
  textBubble,
  until,
  World,
  write,
} from './harness'

// Links to one message: the message menu's Copy link, pasted into another chat, clicked there; the
// same link handed over by the shell (a parley:// link opened outside the app); and a link to a
// message this account cannot see.

const clipboard = clipboardText
const menuOf = messageMenu
/** The open conversation is with this person (its header's profile button). */
const openWith = (page: Page, name: string) =>
  page.getByRole('button', { name: `Profile of ${name}` }).waitFor()

describe.skipIf(!canRunE2e)('message links, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person
  let link = ''

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await world.contacts('Alice', 'Bob', 'Carol')
    await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'])
    await openChat(alice.page, 'Bob')
    await openChat(bob.page, 'Alice')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('Copy link, pasted into another chat and clicked, lands on the message, loading older history, marked', {
    timeout: 120_000,
  }, async () => {
    const page = alice.page
    await write(bob.page, 'Meet at the north gate')
    const target = textBubble(page, 'Meet at the north gate')
    await target.waitFor()
    await target.locator('.bubble').click({ button: 'right' })
    await menuOf(page).getByRole('menuitem', { name: 'Copy link' }).click()
    link = await clipboard(page)
    expect(link).toMatch(/^parley:\/\/message\/[1-9][0-9]*$/)

    // Many more messages follow: the linked one is no longer in the newest page.
    const aliceId = await idOf(bob, alice.username)
    for (let i = 1; i <= 130; i++) {
      const sent = await bob.host.core.call('messages.send', {
        conversation: dmKey(aliceId),
        text: `filler ${i}`,
      })
      if (!sent.ok) throw new Error(sent.error.message)
    }
    await textBubble(page, 'filler 130').waitFor({ timeout: 60_000 })

    await openChat(page, 'Carol')
    await write(page, `Where we meet: ${link}`)
    const pasted = page.getByRole('log').getByRole('button', { name: link })
    await pasted.waitFor()
    await pasted.click()

    // The chat with Bob, at the message, marked for a moment.
    await openWith(page, 'Bob Tester')
    await target.waitFor()
    await until(async () => (await target.locator('.bubble.highlighted').count()) === 1)
    expect(await target.isVisible()).toBe(true)
    expect(await textBubble(page, 'filler 130').count()).toBe(0)
  })

  it('a parley://message link opened outside the app shows the message too', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    await openChat(page, 'Carol')
    // What the shell does with a deep link from the OS (desktop/src/main/index.ts).
    alice.host.core.openMessage(Number(link.split('/').at(-1)))
    const target = textBubble(page, 'Meet at the north gate')
    await target.waitFor()
    await openWith(page, 'Bob Tester')
    await until(async () => (await target.locator('.bubble.highlighted').count()) === 1)
  })

  it('a link to a message you cannot see says so', { timeout: 60_000 }, async () => {
    // Carol was never in the chat between Alice and Bob.
    const page = carol.page
    await openChat(page, 'Alice')
    await messageWith(page, 'Where we meet').waitFor()
    await page.getByRole('log').getByRole('button', { name: link }).click()
    const dialog = page.getByRole('dialog', { name: 'Message not available' })
    await dialog.getByText("This message isn't available.").waitFor()
    await screenshots(page, 'message-link-unavailable')
    await dialog.getByRole('button', { name: 'OK' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect(await chatRow(page, 'Alice').count()).toBe(1)
  })
})
