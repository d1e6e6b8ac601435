import { type ConversationKey, dmKey, groupKey, type MessageView } from '@parley/shared'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  canRunE2e,
  chatRow,
  idOf,
  messageLog,
  openChat,
  type Person,
  screenshots,
  until,
  World,
} from './harness'

// Voice messages in the window, with Chromium's fake microphone (a beeping tone) and its permission
// prompt answered yes: record, cancel (nothing sent), record again, listen to the preview, send;
// the other side sees the waveform and length, plays it, seeks, changes speed, and the unplayed
// mark goes. Then in a group, a forwarded copy, and a microphone the browser refuses.

/** What the test reads of the page's one voice player (an <audio> element). */
interface AudioState {
  playbackRate: number
  currentTime: number
}

const FAKE_MICROPHONE = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']

const voiceMessages = (page: Page) =>
  messageLog(page)
    .locator('article.message')
    .filter({ has: page.locator('.voice') })

/** Records for about `ms` (click to start, Stop for the preview). */
async function record(page: Page, ms: number): Promise<void> {
  await page.getByRole('button', { name: 'Record voice message' }).click()
  await page.getByRole('timer', { name: 'Recording time' }).waitFor()
  await page.waitForTimeout(ms)
}

async function recordAndSend(page: Page, ms: number): Promise<void> {
  await record(page, ms)
  await page.getByRole('button', { name: 'Stop recording' }).click()
  await page.getByRole('button', { name: 'Send voice message' }).click()
  await page.getByRole('button', { name: 'Record voice message' }).waitFor()
}

async function voicesIn(person: Person, conversation: ConversationKey) {
  const page = await person.host.core.call('messages.page', { conversation, limit: 20 })
  if (!page.ok) throw new Error(page.error.message)
  return page.value.messages.filter((m: MessageView) => m.voice !== null)
}

describe.skipIf(!canRunE2e)('voice messages, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person
  let aliceId: number
  let bobId: number

  beforeAll(async () => {
    await world.start({ chromiumFlags: FAKE_MICROPHONE })
    ;[alice, bob] = await world.contacts('Alice', 'Bob')
    bobId = await idOf(alice, bob.username)
    aliceId = await idOf(bob, alice.username)
    await openChat(alice.page, '^Bob Tester')
    await openChat(bob.page, '^Alice Tester')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('records, cancels, records again, previews and sends; the other side plays, seeks, speeds up, and it shows as played', {
    timeout: 90_000,
  }, async () => {
    const { page } = alice
    // Cancelled with Escape: nothing is sent.
    await record(page, 1200)
    await screenshots(page, 'voice-recorder')
    await page.keyboard.press('Escape')
    await page.getByRole('button', { name: 'Record voice message' }).waitFor()
    expect(await page.getByRole('timer').count()).toBe(0)

    // Recorded again, about 2 s, and stopped: a preview to listen to first.
    await record(page, 2200)
    await page.getByRole('button', { name: 'Stop recording' }).click()
    const slider = page.getByRole('slider', { name: 'Your recording: position' })
    await slider.waitFor()
    const previewLength = (await page.getByTestId('preview-duration').textContent())?.trim()
    expect(previewLength).toMatch(/^0:0[1-3]$/)
    expect(await slider.locator('.bar').count()).toBeGreaterThan(8)
    await page.getByRole('button', { name: 'Play preview' }).click()
    await page.getByRole('button', { name: 'Pause preview' }).waitFor()
    await page.getByRole('button', { name: 'Pause preview' }).click()
    await screenshots(page, 'voice-preview')
    // Nothing was sent by the cancel or the preview.
    expect(await voicesIn(bob, dmKey(aliceId))).toHaveLength(0)

    await page.getByRole('button', { name: 'Send voice message' }).click()
    await page.getByRole('button', { name: 'Record voice message' }).waitFor()
    await voiceMessages(page).first().waitFor()

    // The other side: one voice message, with the sender's waveform and length.
    const theirs = voiceMessages(bob.page)
    await theirs.first().waitFor({ timeout: 20_000 })
    await until(async () => (await voicesIn(bob, dmKey(aliceId))).length > 0)
    const [stored, ...more] = await voicesIn(bob, dmKey(aliceId))
    expect(more).toHaveLength(0)
    expect(stored!.voice!.durationMs).toBeGreaterThan(1200)
    expect(stored!.voice!.durationMs).toBeLessThan(4000)
    expect(stored!.voice!.waveform.length).toBe(64)
    // The fake microphone beeps: loud and quiet stretches, not one flat line.
    expect(Math.max(...stored!.voice!.waveform)).toBe(255)
    expect(Math.min(...stored!.voice!.waveform)).toBeLessThan(200)
    expect(stored!.voice!.file.type).toBe('audio/webm')

    const voice = theirs.first().locator('.voice')
    expect(await voice.getAttribute('data-voice-state')).toBe('unplayed')
    await expect.poll(() => chatRow(bob.page, 'Alice').textContent()).toMatch(/Voice message 0:0[1-3]/)
    await screenshots(bob.page, 'voice-bubble')

    // Played: the mark goes (kept by the core), and the time runs.
    await voice.getByRole('button', { name: /^Play voice message from Alice/ }).click()
    await voice.getByRole('button', { name: 'Pause voice message' }).waitFor()
    await expect.poll(() => voice.getAttribute('data-voice-state')).toBe('played')
    await expect.poll(async () => (await voicesIn(bob, dmKey(aliceId)))[0]?.voice?.played).toBe(true)
    const seek = voice.getByRole('slider')
    await expect.poll(async () => Number(await seek.getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(0)

    // Speed: 1× → 1.5× → 2× → 1×.
    await voice.getByRole('button', { name: 'Playback speed 1×', exact: true }).click()
    await voice.getByRole('button', { name: 'Playback speed 1.5×', exact: true }).click()
    await voice.getByRole('button', { name: 'Playback speed 2×', exact: true }).waitFor()
    const player = bob.page.locator('audio[data-voice-player]')
    expect(await player.evaluate((a) => (a as unknown as AudioState).playbackRate)).toBe(2)

    // Paused, then sought with the keyboard (End, then back) and by a click in the middle.
    if (await voice.getByRole('button', { name: 'Pause voice message' }).count())
      await voice.getByRole('button', { name: 'Pause voice message' }).click()
    await seek.focus()
    await seek.press('Home')
    await expect.poll(() => seek.getAttribute('aria-valuenow')).toBe('0')
    await seek.press('ArrowRight')
    await expect.poll(() => seek.getAttribute('aria-valuenow')).toBe('1')
    const box = (await seek.boundingBox())!
    await bob.page.mouse.click(box.x + box.width * 0.5, box.y + box.height / 2)
    const half = Math.round(stored!.voice!.durationMs / 2000)
    await expect
      .poll(async () => Math.abs(Number(await seek.getAttribute('aria-valuenow')) - half))
      .toBeLessThanOrEqual(1)
    // The audio itself moved there, not only the bar.
    const at = await player.evaluate((a) => (a as unknown as AudioState).currentTime * 1000)
    expect(Math.abs(at - stored!.voice!.durationMs / 2)).toBeLessThan(300)
    await expect
      .poll(async () => (await voice.locator('.time').textContent())?.trim())
      .toMatch(/^0:0\d \/ 0:0\d$/)
    // Played on from there, at 2×, to the end.
    await voice.getByRole('button', { name: /^Play voice message/ }).click()
    await voice.getByRole('button', { name: /^Play voice message/ }).waitFor({ timeout: 10_000 })
    await voice.getByRole('button', { name: 'Playback speed 2×', exact: true }).click()
    await voice.getByRole('button', { name: 'Playback speed 1×', exact: true }).waitFor()
    // Held down, the microphone records until let go; then the preview, and Discard keeps nothing.
    const mic = (await page.getByRole('button', { name: 'Record voice message' }).boundingBox())!
    await page.mouse.move(mic.x + mic.width / 2, mic.y + mic.height / 2)
    await page.mouse.down()
    await page.getByRole('timer', { name: 'Recording time' }).waitFor()
    await page.waitForTimeout(1200)
    await page.mouse.up()
    await page.getByRole('button', { name: 'Send voice message' }).waitFor()
    await page.getByRole('button', { name: 'Discard voice message' }).click()
    await page.getByRole('button', { name: 'Record voice message' }).waitFor()
    expect(await voicesIn(alice, dmKey(bobId))).toHaveLength(1)

    // The sender's own copy plays too (from the relay), and is never marked unplayed.
    const mine = voiceMessages(page).first().locator('.voice')
    expect(await mine.getAttribute('data-voice-state')).toBe('played')
    await mine.getByRole('button', { name: /^Play voice message from you/ }).click()
    await mine.getByRole('button', { name: 'Pause voice message' }).waitFor()
    await mine.getByRole('button', { name: 'Pause voice message' }).click()
  })

  it('in a group, and a forwarded copy plays', { timeout: 90_000 }, async () => {
    const made = await alice.host.core.call('groups.create', { title: 'Choir', memberIds: [bobId] })
    if (!made.ok) throw new Error(made.error.message)
    await chatRow(bob.page, 'Choir').waitFor()
    await openChat(alice.page, 'Choir')
    await openChat(bob.page, 'Choir')
    // Sent offline: it waits (and plays from here meanwhile), then goes once the relay is back, once.
    alice.proxy.goOffline()
    await recordAndSend(alice.page, 1500)
    const pending = voiceMessages(alice.page).first().locator('.voice')
    await pending.getByText(/Waiting to upload|Uploading/).waitFor()
    await pending.getByRole('button', { name: /^Play voice message from you/ }).click()
    await pending.getByRole('button', { name: 'Pause voice message' }).waitFor()
    await pending.getByRole('button', { name: 'Pause voice message' }).click()
    await screenshots(alice.page, 'voice-pending')
    alice.proxy.goOnline()
    const theirs = voiceMessages(bob.page).first().locator('.voice')
    await theirs.waitFor({ timeout: 20_000 })
    await until(async () => (await voicesIn(bob, groupKey(made.value.id))).length === 1)
    expect(await voicesIn(bob, groupKey(made.value.id))).toHaveLength(1)
    expect(await theirs.getAttribute('data-voice-state')).toBe('unplayed')
    await theirs.getByRole('button', { name: /^Play voice message from Alice/ }).click()
    await expect.poll(() => theirs.getAttribute('data-voice-state')).toBe('played')
    // The speed is one setting for every voice message: back at 1× from the last test.
    await theirs.getByRole('button', { name: 'Playback speed 1×', exact: true }).waitFor()
    await screenshots(bob.page, 'voice-group')

    // Bob forwards Alice's 1:1 voice message into the group: Alice's copy there plays.
    const [original] = await voicesIn(bob, dmKey(aliceId))
    const forwarded = await bob.host.core.call('messages.forward', {
      localId: original!.localId,
      to: [groupKey(made.value.id)],
    })
    if (!forwarded.ok) throw new Error(forwarded.error.message)
    const copy = voiceMessages(alice.page).filter({ hasText: 'Forwarded' }).first().locator('.voice')
    await copy.waitFor({ timeout: 20_000 })
    await copy.getByRole('button', { name: /^Play voice message from Bob/ }).click()
    await copy.getByRole('button', { name: 'Pause voice message' }).waitFor()
    // One at a time: playing another stops this one.
    await voiceMessages(alice.page)
      .first()
      .locator('.voice')
      .getByRole('button', { name: /^Play voice message from you/ })
      .click()
    await copy.getByRole('button', { name: /^Play voice message from Bob/ }).waitFor()
  })

  it('counts down in its last minute and stops by itself at 15:00, keeping the recording for the preview', {
    timeout: 60_000,
  }, async () => {
    const { page } = alice
    await openChat(page, '^Bob Tester')
    // Last in this world: the page's clock runs fast from here (the recording itself stays short and real).
    await page.clock.install()
    await page.getByRole('button', { name: 'Record voice message' }).click()
    await page.getByRole('timer', { name: 'Recording time' }).waitFor()
    await page.getByText('Up to 15:00').waitFor()
    await page.clock.fastForward('14:05')
    const countdown = page.getByRole('status').filter({ hasText: /^Stops at 15:00: 0:5\d left$/ })
    await countdown.waitFor()
    await screenshots(page, 'voice-limit')
    await page.clock.fastForward('01:00')
    await page.getByRole('button', { name: 'Send voice message' }).waitFor()
    expect(await page.getByRole('timer').count()).toBe(0)
    await page.getByRole('button', { name: 'Discard voice message' }).click()
    await page.getByRole('button', { name: 'Record voice message' }).waitFor()
  })
})

describe.skipIf(!canRunE2e)('a microphone the browser refuses', () => {
  const world = new World()
  let alice: Person

  beforeAll(async () => {
    // A fake device, but no fake "Allow": headless Chromium answers the prompt with no.
    await world.start({ chromiumFlags: ['--use-fake-device-for-media-stream'] })
    ;[alice] = await world.contacts('Alice', 'Bob')
    await openChat(alice.page, '^Bob Tester')
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('says so and how to allow it; nothing is recorded or sent', { timeout: 30_000 }, async () => {
    const { page } = alice
    await page.getByRole('button', { name: 'Record voice message' }).click()
    const alert = page.getByRole('alert').filter({ hasText: 'Parley may not use the microphone.' })
    await alert.waitFor()
    expect(await alert.textContent()).toMatch(/site settings/)
    expect(await page.getByRole('timer').count()).toBe(0)
    await screenshots(page, 'voice-denied')
    await alert.getByRole('button', { name: 'Dismiss' }).click()
    expect(await alert.count()).toBe(0)
  })
})
