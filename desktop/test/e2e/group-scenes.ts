import type { Page } from 'playwright-core'
import { connect, idOf, messageLog, type Person, type World } from './harness'

// What the group scenarios share: finding a line of a group's timeline, opening its panel, and
// three people in a group of their own.

/** A centred line of the group's timeline ("Alice added Bob"). */
export function timelineLine(page: Page, text: RegExp) {
  return messageLog(page).locator('article.message.event').filter({ hasText: text })
}

export async function openGroupInfo(page: Page) {
  await page.getByRole('button', { name: 'Group info', exact: true }).click()
  return page.getByRole('dialog', { name: 'Group info' })
}

/** Alice, Bob and Carol, registered; Alice's contacts Bob and Carol in her group `title`. */
export async function threeInAGroup(world: World, title: string): Promise<[Person, Person, Person]> {
  const [alice, bob, carol] = await world.registered('Alice', 'Bob', 'Carol')
  await connect(alice, bob)
  await connect(alice, carol)
  const made = await alice.host.core.call('groups.create', {
    title,
    memberIds: [await idOf(alice, bob.username), await idOf(alice, carol.username)],
  })
  if (!made.ok) throw new Error(made.error.message)
  return [alice, bob, carol]
}
