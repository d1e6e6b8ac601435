import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  canRunE2e,
  chatRow,
  idOf,
  openChat,
  type Person,
  screenshots,
  textBubble,
  World,
  write,
} from './harness'

// Forward…: the message menu opens a dialog of chats (searchable by name); the message goes to
// each one chosen, marked "Forwarded", also when written offline.

const bubble = textBubble
const menuOf = (page: Page) => page.getByRole('menu', { name: 'Message menu' })

describe.skipIf(!canRunE2e)('forwarding, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await world.contacts('Alice', 'Bob', 'Carol')
    const ids = [await idOf(alice, bob.username), await idOf(alice, carol.username)]
    const made = await alice.host.core.call('groups.create', { title: 'Garden club', memberIds: ids })
    if (!made.ok) throw new Error(made.error.message)
    await chatRow(carol.page, 'Garden club').waitFor()
    await openChat(alice.page, '^Bob Tester')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('forwards to a group and a person at once, offline too; both show it as forwarded', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    await openChat(bob.page, '^Alice Tester')
    await write(bob.page, 'Tomatoes need water daily')
    await bubble(page, 'Tomatoes need water daily').waitFor()

    alice.proxy.goOffline()
    await bubble(page, 'Tomatoes need water daily').locator('.bubble').click({ button: 'right' })
    await menuOf(page).getByRole('menuitem', { name: 'Forward…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Forward message' })
    await dialog.waitFor()
    await dialog.getByRole('searchbox', { name: 'Search chats' }).fill('gard')
    const list = dialog.getByRole('list', { name: 'Chats to forward to' })
    expect(await list.getByRole('listitem').allTextContents()).toEqual([
      expect.stringContaining('Garden club'),
    ])
    await list.getByText('Garden club').click()
    await dialog.getByRole('searchbox', { name: 'Search chats' }).fill('')
    await list.getByText('Carol Tester').click()
    await screenshots(page, 'forward-dialog')
    await dialog.getByRole('button', { name: 'Forward to 2 chats' }).click()
    await dialog.waitFor({ state: 'detached' })
    alice.proxy.goOnline()

    await openChat(carol.page, 'Garden club')
    const inGroup = bubble(carol.page, 'Tomatoes need water daily')
    await inGroup.getByText('Forwarded', { exact: true }).waitFor()
    await openChat(carol.page, '^Alice Tester')
    await bubble(carol.page, 'Tomatoes need water daily').getByText('Forwarded', { exact: true }).waitFor()
    await openChat(page, 'Garden club')
    await bubble(page, 'Tomatoes need water daily').getByText('Forwarded', { exact: true }).waitFor()
    await screenshots(page, 'forward-group')
  })
})
