import type { ConversationKey, MessageView, SessionView } from '@parley/shared'
import { afterAll, beforeAll, expect } from 'vitest'
import type { Timing } from '../../src/core/logger'
import { befriend, fastTiming, signUp, startCore, type TestCore, waitFor, waitOnline } from './core'
import { startProxy, type TestProxy } from './proxy'
import { startRelay, type TestRelay } from './relay'

// People of a group scenario in the desktop core: each a core of its own, reaching the relay through
// a proxy of its own (so any of them can go offline).

export interface Person {
  core: TestCore
  session: SessionView
  id: number
  proxy: TestProxy
}

/** Makes people on `relay`; each one's core and proxy are stopped by `cleanup` (run them in reverse). */
export function groupPeople(relay: () => TestRelay, cleanup: (() => Promise<void>)[]) {
  async function person(timing: Partial<Timing> = {}): Promise<Person> {
    const proxy = await startProxy(Number(new URL(relay().url).port))
    const core = await startCore(undefined, { timing: { ...fastTiming, ...timing } })
    cleanup.push(
      () => core.dispose(),
      () => proxy.close(),
    )
    const session = await signUp(core, proxy.url)
    await waitOnline(core)
    return { core, session, id: session.user.id, proxy }
  }

  /** Alice, with Bob and Carol as her contacts (Bob and Carol are not each other's). */
  async function trio() {
    const [alice, bob, carol] = [await person(), await person(), await person()]
    await befriend(alice.core, alice.session, bob.core, bob.session)
    await befriend(alice.core, alice.session, carol.core, carol.session)
    return { alice, bob, carol }
  }
  return { person, trio }
}

/**
 * A suite of group scenarios: a relay started before its tests and, after them, every person's
 * core and proxy (and whatever else the tests put in `cleanup`) stopped, then the relay.
 */
export function groupSuite() {
  let relay: TestRelay | undefined
  const cleanup: (() => Promise<void>)[] = []
  const current = (): TestRelay => {
    if (!relay) throw new Error('the relay starts before the tests')
    return relay
  }
  beforeAll(async () => {
    relay = await startRelay()
  })
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined)
    await relay?.close()
  })
  return { relay: current, cleanup, ...groupPeople(current, cleanup) }
}

export async function timeline(p: Person, key: ConversationKey): Promise<MessageView[]> {
  return (await p.core.ok('messages.page', { conversation: key, limit: 200 })).messages.reverse()
}

export const texts = (messages: MessageView[]) =>
  messages.filter((m) => m.kind !== 'event').map((m) => m.text)
export const events = (messages: MessageView[]) =>
  messages.filter((m) => m.kind === 'event').map((m) => m.event?.text)

export async function waitForTexts(p: Person, key: ConversationKey, wanted: (string | null)[]) {
  return waitFor(async () => {
    const got = texts(await timeline(p, key))
    expect(got).toEqual(wanted)
    return true
  })
}

export const fullName = (p: Person) => `${p.session.user.firstName} ${p.session.user.lastName}`
