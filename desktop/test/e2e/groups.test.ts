import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openGroupInfo, timelineLine } from './group-scenes'
import {
  bubble,
  canRunE2e,
  chatRow,
  connect,
  openChat,
  type Person,
  screenshots,
  send,
  World,
} from './harness'

describe.skipIf(!canRunE2e)('groups of three in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let carol: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob, carol] = await world.registered('Alice', 'Bob', 'Carol')
    await connect(alice, bob)
    await connect(alice, carol)
    // Clipboard reads and writes, for the invite link.
    await alice.context.grantPermissions(['clipboard-read', 'clipboard-write'])
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('Alice makes a group with Bob; both write and see who wrote what', { timeout: 90_000 }, async () => {
    await alice.page.getByRole('button', { name: 'New group' }).click()
    const dialog = alice.page.getByRole('dialog', { name: 'New group' })
    await dialog.getByLabel('Group name').fill('Book club')
    await dialog.getByLabel('Filter contacts').fill('bo')
    await dialog.getByRole('list', { name: 'Contacts to add' }).getByText('Bob Tester').click()
    await dialog.getByText('1 chosen').waitFor()
    await screenshots(alice.page, 'groups-new')
    await dialog.getByRole('button', { name: 'Create group' }).click()

    // The group opens: its header counts two members; the timeline says who made it.
    const header = alice.page.getByRole('button', { name: 'Group info of Book club' })
    await header.getByText('2 members').waitFor()
    await timelineLine(alice.page, /created|added/)
      .first()
      .waitFor()

    await chatRow(bob.page, 'Book club').waitFor()
    await openChat(bob.page, 'Book club')
    await send(alice.page, 'Welcome to the book club!')
    await bubble(bob.page, 'Welcome to the book club!').getByText('Alice Tester').waitFor()
    await send(bob.page, 'Thanks Alice')
    await send(bob.page, 'Glad to be here')
    const first = bubble(alice.page, 'Thanks Alice')
    await first.getByText('Bob Tester').waitFor()
    // A run of messages from one sender names them once.
    await bubble(alice.page, 'Glad to be here').waitFor()
    expect(await bubble(alice.page, 'Glad to be here').locator('.sender').count()).toBe(0)
    // The chat list shows whose the last message is.
    await chatRow(alice.page, 'Book club').getByText('Bob:').waitFor()
    // Alice is looking at the group: what arrives is read, and no count stays on its row.
    await chatRow(alice.page, 'Book club')
      .getByLabel(/unread/)
      .waitFor({ state: 'detached' })
    await screenshots(alice.page, 'groups-chat')
  })

  it('adding and removing a member shows in everyone’s timeline', { timeout: 60_000 }, async () => {
    const info = await openGroupInfo(alice.page)
    await info.getByRole('button', { name: 'Add members' }).click()
    await info.getByRole('list', { name: 'Contacts to add to the group' }).getByText('Carol Tester').click()
    await info.getByRole('button', { name: /^Add 1/ }).click()
    await info.getByText('3 members').first().waitFor()
    await screenshots(alice.page, 'groups-members')
    await alice.page.keyboard.press('Escape')
    await timelineLine(alice.page, /added Carol/).waitFor()
    await timelineLine(bob.page, /^Alice Tester added Carol Tester$/).waitFor()
    await chatRow(carol.page, 'Book club').waitFor()
  })

  it('@ offers the members to mention, picked with the keyboard', { timeout: 60_000 }, async () => {
    await openChat(carol.page, 'Book club')
    const box = carol.page.getByRole('textbox', { name: 'Message' })
    // Bob is not Carol's contact: her device knows him as a fellow member.
    await box.pressSequentially('Hi @')
    const options = carol.page.getByRole('listbox', { name: 'Members to mention' })
    await options.getByRole('option', { name: /Alice Tester/ }).waitFor()
    await box.pressSequentially('bo')
    await options.getByRole('option', { name: /Bob Tester/ }).waitFor()
    expect(await options.getByRole('option').count()).toBe(1)
    await screenshots(carol.page, 'groups-mention')
    await box.press('Tab')
    expect(await box.inputValue()).toBe(`Hi @${bob.username} `)
    await box.pressSequentially('what are we reading?')
    await box.press('Enter')
    const sent = bubble(bob.page, `Hi @${bob.username} what are we reading?`)
    await sent.locator('.mention').waitFor()
  })

  it('Alice sees who has received and read her message', { timeout: 60_000 }, async () => {
    // Bob and Carol look at the group (their windows in front), so the message is read as it comes.
    await bob.page.bringToFront()
    await carol.page.bringToFront()
    await send(alice.page, 'Next book: Middlemarch')
    await bubble(bob.page, 'Next book: Middlemarch').waitFor()
    await bubble(carol.page, 'Next book: Middlemarch').waitFor()
    const mine = bubble(alice.page, 'Next book: Middlemarch')
    await mine.hover()
    await mine.getByRole('button', { name: 'Seen by' }).click()
    const seen = alice.page.getByRole('dialog', { name: 'Seen by' })
    // Both had the group open in front: their reads reach the dialog while it is open (it may
    // have opened when they had only received it).
    const readBy = seen.getByRole('region', { name: 'Read by' })
    await readBy.getByText('Bob Tester').waitFor()
    await readBy.getByText('Carol Tester').waitFor()
    await seen.getByText('Everyone else has read it.').waitFor()
    // And when each of them read it.
    for (const name of ['Bob Tester', 'Carol Tester'])
      await readBy
        .getByRole('listitem')
        .filter({ hasText: name })
        .getByText(/^Read \d{1,2}:\d{2}/)
        .waitFor()
    await screenshots(alice.page, 'groups-seen-by')
    await alice.page.keyboard.press('Escape')
  })

  it('Alice removes Carol, who can read but no longer write', { timeout: 60_000 }, async () => {
    const info = await openGroupInfo(alice.page)
    await info.getByRole('button', { name: 'Manage Carol Tester' }).click()
    await info.getByRole('button', { name: 'Remove from group' }).click()
    await alice.page
      .getByRole('dialog', { name: 'Remove Carol Tester?' })
      .getByRole('button', { name: 'Remove' })
      .click()
    await info.getByText('2 members').first().waitFor()
    await alice.page.keyboard.press('Escape')
    await timelineLine(alice.page, /removed Carol/).waitFor()
    await carol.page.getByText('You were removed from this group').waitFor()
    expect(await carol.page.getByRole('textbox', { name: 'Message' }).count()).toBe(0)
    await screenshots(carol.page, 'groups-removed')
  })

  it('Carol comes back with an invite link, seeing the group before joining', {
    timeout: 60_000,
  }, async () => {
    const info = await openGroupInfo(alice.page)
    await info.getByRole('button', { name: 'Create invite link' }).click()
    const link = await info.getByLabel('Invite link', { exact: true }).inputValue()
    expect(link).toMatch(/^parley:\/\/join\/[A-Za-z0-9]{16,64}$/)
    await screenshots(alice.page, 'groups-invite')
    await alice.page.keyboard.press('Escape')

    await carol.page.getByRole('button', { name: 'Join a group' }).click()
    const join = carol.page.getByRole('dialog', { name: 'Join a group' })
    await join.getByLabel('Invite link or code').fill(link)
    await join.getByText('Book club').waitFor()
    await join.getByText('2 members').waitFor()
    await screenshots(carol.page, 'groups-join')
    await carol.page.keyboard.press('Escape')
    expect(await join.count()).toBe(0)
    // The same link opened from outside the app (the shell hands `parley://join/<code>` to the core):
    // the join screen comes up with the preview, and nothing is joined until Carol says so.
    carol.host.core.openJoin(link.slice('parley://join/'.length))
    await join.getByText('Book club').waitFor()
    await join.getByText('2 members').waitFor()
    await join.getByRole('button', { name: 'Join group' }).click()
    await carol.page.getByRole('button', { name: 'Group info of Book club' }).getByText('3 members').waitFor()
    await timelineLine(alice.page, /Carol.*joined/).waitFor()
  })

  it('Bob leaves; his box gives way to a notice, the others see him go', { timeout: 60_000 }, async () => {
    const info = await openGroupInfo(bob.page)
    // A member is offered nothing to do to others.
    expect(await info.getByRole('button', { name: /^Manage / }).count()).toBe(0)
    await info.getByRole('button', { name: 'Leave group' }).click()
    await bob.page
      .getByRole('dialog', { name: 'Leave the group?' })
      .getByRole('button', { name: 'Leave' })
      .click()
    await bob.page.keyboard.press('Escape')
    await bob.page.getByText('You left this group').waitFor()
    await timelineLine(alice.page, /Bob.*left/).waitFor()
    await screenshots(alice.page, 'groups-left')
  })
})
