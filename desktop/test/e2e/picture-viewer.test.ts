import { dmKey } from '@parley/shared'
import type { Locator, Page } from 'playwright-core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canRunE2e, idOf, messageWith, openChat, type Person, screenshots, until, World } from './harness'

/** A landscape with a sun: something to look at in the screenshots. */
async function picture(width: number, height: number, sky: string): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="${sky}"/>
    <circle cx="${width * 0.7}" cy="${height * 0.35}" r="${Math.min(width, height) * 0.12}" fill="#ffd36b"/>
    <path d="M0 ${height * 0.75} L${width * 0.3} ${height * 0.55} L${width * 0.55} ${height * 0.72} L${width * 0.8} ${height * 0.5} L${width} ${height * 0.7} V${height} H0 Z" fill="#2f4858"/>
  </svg>`
  return (await sharp(Buffer.from(svg)).png().toBuffer()).toString('base64')
}

/** The picture in the viewer, and its box on the page. */
function shownPicture(page: Page): Locator {
  return page.getByRole('dialog', { name: 'Picture viewer' }).getByRole('img')
}
async function box(locator: Locator) {
  const found = await locator.boundingBox()
  if (!found) throw new Error('not on screen')
  return found
}

describe.skipIf(!canRunE2e)('the picture viewer, in Chromium', () => {
  const world = new World()
  let alice: Person
  let bob: Person

  beforeAll(async () => {
    await world.start()
    ;[alice, bob] = await world.contacts('Alice', 'Bob')
    const aliceId = await idOf(bob, alice.username)
    const pictures: [number, number, string, string][] = [
      [1600, 1000, '#8ec5ff', 'The lake at noon'],
      [800, 1200, '#f6a97a', 'Sunset from the hill'],
      [400, 300, '#b9a4f5', 'Dusk'],
    ]
    for (const [width, height, sky, text] of pictures) {
      const sent = await bob.host.core.call('messages.sendImage', {
        conversation: dmKey(aliceId),
        dataBase64: await picture(width, height, sky),
        text,
      })
      if (!sent.ok) throw new Error(sent.error.message)
    }
    await openChat(alice.page, 'Bob')
    await messageWith(alice.page, 'Dusk').getByRole('img').waitFor()
  }, 120_000)
  afterAll(() => world.stop(), 60_000)

  it('opens fitted to the window, zooms with keys, wheel, pinch and double-click, and pans', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    await messageWith(page, 'The lake at noon').getByRole('button', { name: 'Open picture' }).click()
    const viewer = page.getByRole('dialog', { name: 'Picture viewer' })
    await viewer.waitFor()
    const img = shownPicture(page)
    await until(async () => (await img.getAttribute('alt')) === 'Picture: The lake at noon')
    // Fitted: the whole picture inside the window, at its proportions.
    const fit = await box(img)
    expect(fit.x).toBeGreaterThanOrEqual(0)
    expect(fit.y).toBeGreaterThanOrEqual(0)
    expect(fit.x + fit.width).toBeLessThanOrEqual(1120)
    expect(fit.y + fit.height).toBeLessThanOrEqual(720)
    expect(fit.width / fit.height).toBeCloseTo(1.6, 1)
    await viewer.getByText('1 of 3').waitFor()
    await screenshots(page, 'picture-viewer')

    await page.keyboard.press('+')
    expect((await box(img)).width).toBeCloseTo(fit.width * 1.5, 0)
    await page.keyboard.press('-')
    expect((await box(img)).width).toBeCloseTo(fit.width, 0)

    // The wheel zooms around the pointer; a pinch comes as ctrl+wheel.
    await page.mouse.move(fit.x + fit.width / 2, fit.y + fit.height / 2)
    await page.mouse.wheel(0, -200)
    await expect.poll(async () => (await box(img)).width).toBeGreaterThan(fit.width * 1.2)
    await page.keyboard.press('0')
    await page.keyboard.down('Control')
    await page.mouse.wheel(0, -40)
    await page.keyboard.up('Control')
    await expect.poll(async () => (await box(img)).width).toBeGreaterThan(fit.width * 1.2)
    await viewer.getByRole('button', { name: 'Fit to window' }).click()
    expect((await box(img)).width).toBeCloseTo(fit.width, 0)

    // Double-click: in to twice the fitted size (or the picture's own, if larger); the arrows then move it instead of stepping.
    await img.dblclick()
    expect((await box(img)).width).toBeCloseTo(Math.max(1600, fit.width * 2), 0)
    const zoomed = await box(img)
    await page.keyboard.press('ArrowRight')
    expect((await box(img)).x).toBeLessThan(zoomed.x)
    expect(await img.getAttribute('alt')).toBe('Picture: The lake at noon')
    // Dragged with the pointer.
    const before = await box(img)
    await page.mouse.move(560, 360)
    await page.mouse.down()
    await page.mouse.move(660, 400, { steps: 4 })
    await page.mouse.up()
    const after = await box(img)
    expect(after.x - before.x).toBeCloseTo(100, 0)
    expect(await viewer.isVisible()).toBe(true)
    await img.dblclick()
    expect((await box(img)).width).toBeCloseTo(fit.width, 0)
  })

  it('steps through the conversation’s pictures with the arrows and the buttons, and saves', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    const viewer = page.getByRole('dialog', { name: 'Picture viewer' })
    const img = shownPicture(page)
    const previous = viewer.getByRole('button', { name: 'Previous picture' })
    const next = viewer.getByRole('button', { name: 'Next picture' })
    expect(await previous.isDisabled()).toBe(true)
    await page.keyboard.press('ArrowRight')
    await until(async () => (await img.getAttribute('alt')) === 'Picture: Sunset from the hill')
    await viewer.getByText('2 of 3').waitFor()
    await next.click()
    await until(async () => (await img.getAttribute('alt')) === 'Picture: Dusk')
    expect(await next.isDisabled()).toBe(true)
    // A small picture is not enlarged to fit.
    await until(async () => (await box(img)).width === 400)
    await previous.click()
    await until(async () => (await img.getAttribute('alt')) === 'Picture: Sunset from the hill')

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      viewer.getByRole('button', { name: 'Save picture' }).click(),
    ])
    expect(download.suggestedFilename()).toMatch(/^parley-\d{4}-\d{2}-\d{2}-\d{4}\.png$/)
  })

  it('closes with Escape or a click beside the picture; the focus goes back to the message', {
    timeout: 60_000,
  }, async () => {
    const page = alice.page
    const viewer = page.getByRole('dialog', { name: 'Picture viewer' })
    // The portrait picture leaves room beside it: a click there closes.
    const shown = await box(shownPicture(page))
    await page.mouse.click(shown.x - 80, shown.y + shown.height / 2)
    await viewer.waitFor({ state: 'detached' })

    await messageWith(page, 'Dusk').getByRole('button', { name: 'Open picture' }).click()
    await viewer.waitFor()
    await page.keyboard.press('ArrowLeft')
    await until(
      async () => (await shownPicture(page).getAttribute('alt')) === 'Picture: Sunset from the hill',
    )
    await page.keyboard.press('Escape')
    await viewer.waitFor({ state: 'detached' })
    // Back on the message of the picture last shown.
    const focused = await page.evaluate(() => {
      const active = (
        globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string } } }
      ).document.activeElement
      return active.getAttribute('aria-describedby')
    })
    const sunset = messageWith(page, 'Sunset from the hill')
    expect(focused).toBe(await sunset.getAttribute('aria-describedby'))
  })
})
