import { describe, expect, it } from 'vitest'
import { waitFor } from './helpers/core'
import { events, fullName, groupSuite, texts, timeline, waitForTexts } from './helpers/group-people'

// Deleting a group through the desktop core, against a real relay.

const { trio } = groupSuite()

describe('deleting a group in the desktop core', () => {
  it('the owner deletes a group: every member keeps what they had, read only, with who deleted it', async () => {
    const { alice, bob, carol } = await trio()
    const { key } = await alice.core.ok('groups.create', { title: 'Ends', memberIds: [bob.id, carol.id] })
    await waitFor(async () => (await carol.core.ok('conversations.list', {})).some((c) => c.key === key))
    await alice.core.ok('groups.setRole', { group: key, userId: bob.id, role: 'admin' })
    await alice.core.ok('messages.send', { conversation: key, text: 'last words' })
    await waitForTexts(carol, key, ['last words'])
    await waitFor(async () => (await bob.core.ok('groups.get', { group: key })).role === 'admin')

    // An admin is not the owner: the core says so before asking the relay.
    const refused = await bob.core.call('groups.delete', { group: key })
    expect(refused).toMatchObject({ ok: false, error: { code: 'not_group_admin' } })

    // Carol is offline: she learns of it from her feed when she is back.
    await carol.proxy.goOffline()
    await alice.core.ok('groups.delete', { group: key })
    const a = fullName(alice)
    const mine = (await alice.core.ok('conversations.list', {})).find((c) => c.key === key)
    expect(mine).toMatchObject({ left: true, leftReason: 'deleted', role: null })
    expect(events(await timeline(alice, key)).at(-1)).toBe('You deleted the group')

    const bobs = await waitFor(async () =>
      (await bob.core.ok('conversations.list', {})).find((c) => c.key === key && c.left),
    )
    expect(bobs).toMatchObject({ leftReason: 'deleted', role: null })
    expect(events(await timeline(bob, key)).filter((t) => t?.includes('deleted'))).toEqual([
      `${a} deleted the group`,
    ])
    expect(texts(await timeline(bob, key))).toEqual(['last words'])
    expect((await bob.core.ok('groups.get', { group: key })).leftReason).toBe('deleted')
    expect((await bob.core.call('messages.send', { conversation: key, text: 'hello?' })).ok).toBe(false)

    await carol.proxy.goOnline()
    const carols = await waitFor(async () =>
      (await carol.core.ok('conversations.list', {})).find((c) => c.key === key && c.left),
    )
    expect(carols.leftReason).toBe('deleted')
    expect(texts(await timeline(carol, key))).toEqual(['last words'])
    expect(events(await timeline(carol, key)).at(-1)).toBe(`${a} deleted the group`)
    // Gone on the relay for everyone: asking again changes nothing here.
    expect((await alice.core.call('groups.delete', { group: key })).ok).toBe(false)
    expect(events(await timeline(alice, key)).filter((t) => t?.includes('deleted'))).toHaveLength(1)
  })
})
