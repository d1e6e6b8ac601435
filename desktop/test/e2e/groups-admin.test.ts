import type { Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openGroupInfo, threeInAGroup, timelineLine } from './group-scenes'
import { canRunE2e, chatRow, openChat, type Person, screenshots, World } from './harness'

// What the owner and admins do to a group, seen by the three people in it.

/** Confirms the question a panel asked (its dialog is named by the question). */
async function confirm(page: Page, question: string | RegExp, action: string) {
  await page.getByRole('dialog', { name: question }).getByRole('button', { name: action }).click()
}

describe.skipIf(!canRunE2e)('running a group in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await threeInAGroup(world, 'Garden club')
    for (const p of [alice, bob, carol]) await openChat(p.page, 'Garden club')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('Alice renames the group and gives it a picture; Bob sees both', { timeout: 60_000 }, async () => {
    const info = await openGroupInfo(alice.page)
    await info.getByRole('button', { name: 'Rename group' }).click()
    await info.getByLabel('Group name').fill('Allotment')
    await info.getByRole('button', { name: 'Save' }).click()
    await info.getByRole('heading', { name: 'Allotment' }).waitFor()
    const leaves = await sharp({
      create: { width: 240, height: 240, channels: 3, background: { r: 70, g: 150, b: 80 } },
    })
      .png()
      .toBuffer()
    await info
      .getByLabel('Change group picture file')
      .setInputFiles({ name: 'leaves.png', mimeType: 'image/png', buffer: leaves })
    await info.getByRole('button', { name: 'Change group picture' }).locator('img').waitFor()
    await alice.page.keyboard.press('Escape')

    await timelineLine(bob.page, /^Alice Tester renamed the group to “Allotment”$/).waitFor()
    await timelineLine(bob.page, /^Alice Tester changed the group's picture$/).waitFor()
    await chatRow(bob.page, 'Allotment').locator('img').waitFor()
    await bob.page.getByRole('button', { name: 'Group info of Allotment' }).locator('img').waitFor()
    await screenshots(bob.page, 'groups-admin-renamed')
  })

  it('Alice makes Bob an admin, then dismisses him; his panel follows', { timeout: 60_000 }, async () => {
    const info = await openGroupInfo(alice.page)
    await info.getByRole('button', { name: 'Manage Bob Tester' }).click()
    await info.getByRole('button', { name: 'Make admin' }).click()
    await timelineLine(bob.page, /^Alice Tester made you an admin$/).waitFor()
    const bobs = await openGroupInfo(bob.page)
    await bobs.getByRole('button', { name: 'Add members' }).waitFor()
    // An admin manages members, not the owner.
    await bobs.getByRole('button', { name: 'Manage Carol Tester' }).waitFor()
    expect(await bobs.getByRole('button', { name: 'Manage Alice Tester' }).count()).toBe(0)
    expect(await bobs.getByRole('button', { name: 'Delete group' }).count()).toBe(0)
    await screenshots(bob.page, 'groups-admin-panel')

    await info.getByRole('button', { name: 'Manage Bob Tester' }).click()
    await info.getByRole('button', { name: 'Dismiss as admin' }).click()
    await confirm(alice.page, 'Dismiss Bob Tester as admin?', 'Dismiss as admin')
    await bobs.getByRole('button', { name: 'Add members' }).waitFor({ state: 'detached' })
    await bob.page.keyboard.press('Escape')
    await alice.page.keyboard.press('Escape')
    await timelineLine(bob.page, /^Alice Tester dismissed you as admin$/).waitFor()
  })

  it('Alice hands the group over to Carol, and stays as an admin', { timeout: 60_000 }, async () => {
    const info = await openGroupInfo(alice.page)
    await info.getByRole('button', { name: 'Manage Carol Tester' }).click()
    await info.getByRole('button', { name: 'Make owner' }).click()
    await confirm(alice.page, 'Make Carol Tester the owner?', 'Hand over')
    // Alice is an admin now: no delete, and the owner is no longer hers to manage.
    await info.getByRole('button', { name: 'Delete group' }).waitFor({ state: 'detached' })
    expect(await info.getByRole('button', { name: 'Manage Carol Tester' }).count()).toBe(0)
    await alice.page.keyboard.press('Escape')

    await timelineLine(carol.page, /^Alice Tester made you the owner$/).waitFor()
    const carols = await openGroupInfo(carol.page)
    await carols.getByRole('button', { name: 'Delete group' }).waitFor()
    const aliceRow = carols.getByRole('listitem').filter({ hasText: 'Alice Tester' })
    await aliceRow.getByText('Admin', { exact: true }).waitFor()
    const carolRow = carols.getByRole('listitem').filter({ hasText: 'You' })
    await carolRow.getByText('Owner', { exact: true }).waitFor()
    await screenshots(carol.page, 'groups-admin-owner')
  })

  it('Carol deletes the group; everyone keeps it, read only, and is told who ended it', {
    timeout: 60_000,
  }, async () => {
    const carols = carol.page.getByRole('dialog', { name: 'Group info' })
    await carols.getByRole('button', { name: 'Delete group' }).click()
    const question = carol.page.getByRole('dialog', { name: 'Delete “Allotment”?' })
    await question.getByText(/All 3 members of “Allotment”/).waitFor()
    await screenshots(carol.page, 'groups-admin-delete-confirm')
    await confirm(carol.page, 'Delete “Allotment”?', 'Delete group')
    await carols.getByText('The owner deleted this group.').waitFor()
    await carol.page.keyboard.press('Escape')

    for (const p of [alice, bob]) {
      await timelineLine(p.page, /^Carol Tester deleted the group$/).waitFor()
      await p.page.getByText('The owner deleted this group. You can read what you had').waitFor()
      expect(await p.page.getByRole('textbox', { name: 'Message' }).count()).toBe(0)
      // What was said before stays.
      await timelineLine(p.page, /renamed the group to “Allotment”/).waitFor()
    }
    await timelineLine(carol.page, /^You deleted the group$/).waitFor()
    await alice.page
      .getByRole('button', { name: 'Group info of Allotment' })
      .getByText('deleted by its owner')
      .waitFor()
    await screenshots(alice.page, 'groups-admin-deleted')
  })
})
