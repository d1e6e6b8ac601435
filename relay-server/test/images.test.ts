import { randomUUID } from 'node:crypto'
import type { FeedEvent, Message, MessageResponse, OwnUser, PublicUser } from '@parley/shared'
import sharp from 'sharp'
import { describe, expect } from 'vitest'
import { connect, http, nextEvent, registerContacts, registerUser, type TestUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import {
  abortedUpload,
  download,
  hasGpsTag,
  makeAnimatedGif,
  makeImage,
  makePhoneJpeg,
  makePngBomb,
  upload,
} from './helpers/images'
import { relayTests, storedUnder } from './helpers/relay'

let now = Date.now()
const withRelay = relayTests({ clock: () => now })

describe.each(dialects)('images (%s)', (dialect) => {
  const it = withRelay[dialect]

  const sendImage = (from: TestUser, to: TestUser, imageId: string, text?: string) =>
    http<MessageResponse>(from.base, 'POST', '/messages', {
      token: from.token,
      body: { clientId: randomUUID(), recipientId: to.user.id, imageId, ...(text && { text }) },
    })

  it('accepts PNG, JPEG, WebP and animated GIF, judged by their bytes', async ({ relay }) => {
    const user = await registerUser(relay.url)
    const png = await upload(relay.url, user.token, await makeImage('png', 64, 48))
    expect(png.status).toBe(201)
    expect(png.body.image).toMatchObject({
      mime: 'image/png',
      width: 64,
      height: 48,
      id: expect.stringMatching(/^[0-9a-f]{64}$/),
    })
    // The name and declared type lie; the bytes decide.
    const jpeg = await upload(relay.url, user.token, await makeImage('jpeg'), {
      filename: 'cat.gif',
      type: 'image/gif',
    })
    expect(jpeg.body.image.mime).toBe('image/jpeg')
    const webp = await upload(relay.url, user.token, await makeImage('webp'))
    expect(webp.body.image.mime).toBe('image/webp')
    const gif = await upload(relay.url, user.token, await makeAnimatedGif())
    expect(gif.body.image).toMatchObject({ mime: 'image/gif', width: 40, height: 30 })
    const served = await download(relay.url, user.token, gif.body.image.id)
    expect((await sharp(served.bytes, { animated: true }).metadata()).pages).toBe(2)
  })

  it('strips EXIF (GPS, camera) and applies the orientation', async ({ relay }) => {
    const user = await registerUser(relay.url)
    const photo = await makePhoneJpeg()
    const original = await sharp(photo).metadata()
    expect(hasGpsTag(original.exif)).toBe(true)
    expect(original.exif?.toString('latin1')).toContain('Parley Cam')

    const uploaded = await upload(relay.url, user.token, photo, { type: 'image/jpeg' })
    expect(uploaded.body.image).toMatchObject({ width: 100, height: 200 })
    const served = await download(relay.url, user.token, uploaded.body.image.id)
    const metadata = await sharp(served.bytes).metadata()
    expect(metadata.exif).toBeUndefined()
    expect(hasGpsTag(metadata.exif)).toBe(false)
    expect(served.bytes.toString('latin1')).not.toContain('Parley Cam')
    expect([metadata.width, metadata.height]).toEqual([100, 200])
  })

  it('stores identical uploads once', async ({ relay }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    const bytes = await makeImage('png', 33, 33, '#abcdef')
    const before = storedUnder(relay, 'images').length
    const first = await upload(relay.url, ann.token, bytes)
    const second = await upload(relay.url, ben.token, bytes)
    expect(second.body.image.id).toBe(first.body.image.id)
    expect(storedUnder(relay, 'images').length - before).toBe(2) // the original and its thumbnail
  })

  it('makes a WebP thumbnail of at most 320 px', async ({ relay }) => {
    const user = await registerUser(relay.url)
    const big = await upload(relay.url, user.token, await makeImage('jpeg', 1280, 640))
    const thumb = await download(relay.url, user.token, big.body.image.id, { size: 'thumb' })
    expect(thumb.headers.get('content-type')).toBe('image/webp')
    expect(await sharp(thumb.bytes).metadata()).toMatchObject({ format: 'webp', width: 320, height: 160 })
  })

  it('refuses what is not an image, a disguised file, a decompression bomb and a damaged image, with clear codes', async ({
    relay,
  }) => {
    const user = await registerUser(relay.url)
    const text = await upload(relay.url, user.token, Buffer.from('just some text, honestly a PNG'), {
      filename: 'a.png',
    })
    expect(text).toMatchObject({ status: 415, body: { error: { code: 'unsupported_image' } } })
    const svg = await upload(
      relay.url,
      user.token,
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    )
    expect(svg).toMatchObject({ status: 415, body: { error: { code: 'unsupported_image' } } })
    // JPEG magic bytes in front of HTML: the type sniffers say JPEG, the decoder does not.
    const polyglot = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
      Buffer.from('<html><script>alert(1)</script></html>'),
    ])
    const disguised = await upload(relay.url, user.token, polyglot)
    expect(disguised.status).toBeGreaterThanOrEqual(400)
    expect(['invalid_image', 'unsupported_image']).toContain(disguised.body.error?.code)
    const bomb = await upload(relay.url, user.token, await makePngBomb())
    expect(bomb).toMatchObject({ status: 400, body: { error: { code: 'image_dimensions_too_large' } } })
    const whole = await makeImage('png', 300, 300)
    const cut = await upload(relay.url, user.token, whole.subarray(0, Math.floor(whole.length / 2)))
    expect(cut).toMatchObject({ status: 400, body: { error: { code: 'invalid_image' } } })
  })

  it('a real image with a payload hidden after it is re-encoded without the payload', async ({ relay }) => {
    const user = await registerUser(relay.url)
    const payload = '<html><script>alert(document.cookie)</script></html>'
    const carrier = Buffer.concat([await makeImage('jpeg', 50, 50), Buffer.from(payload)])
    const uploaded = await upload(relay.url, user.token, carrier)
    expect(uploaded.status).toBe(201)
    const served = await download(relay.url, user.token, uploaded.body.image.id)
    expect(served.bytes.toString('latin1')).not.toContain('<script>')
  })

  it('refuses files over 10 MB with 413, and wrong request shapes with 4xx', async ({ relay }) => {
    const user = await registerUser(relay.url)
    const huge = await upload(relay.url, user.token, Buffer.alloc(10 * 1024 * 1024 + 1, 1))
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'image_too_large' } } })
    const wrongField = await upload(relay.url, user.token, await makeImage('png'), { field: 'picture' })
    expect(wrongField).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } })
    const json = await http(relay.url, 'POST', '/uploadimage', { token: user.token, body: { file: 'x' } })
    expect(json).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } })
    const anonymous = await fetch(`${relay.url}/uploadimage`, { method: 'POST' })
    expect(anonymous.status).toBe(401)
  })

  it('an upload cut off midway leaves no file behind', async ({ relay }) => {
    const user = await registerUser(relay.url)
    const before = storedUnder(relay, 'images')
    await abortedUpload(relay.url, user.token, 2_000_000, 300_000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(storedUnder(relay, 'images')).toEqual(before)
    expect((await http(relay.url, 'GET', '/health')).status).toBe(200)
  })

  it('serves with the right headers, a strong ETag and 304 when unchanged', async ({ relay }) => {
    const user = await registerUser(relay.url)
    const { image } = (await upload(relay.url, user.token, await makeImage('png'))).body
    const served = await download(relay.url, user.token, image.id)
    expect(served.status).toBe(200)
    expect(served.headers.get('content-type')).toBe('image/png')
    expect(served.headers.get('x-content-type-options')).toBe('nosniff')
    expect(served.headers.get('content-disposition')).toBe('inline')
    expect(served.headers.get('cache-control')).toBe('private, max-age=31536000, immutable')
    const etag = served.headers.get('etag')!
    expect(etag).toMatch(/^"[0-9a-f]{64}\.original"$/)
    expect(served.bytes.length).toBe(image.bytes)
    const again = await download(relay.url, user.token, image.id, { etag })
    expect(again.status).toBe(304)
    expect(again.bytes.length).toBe(0)
  })

  it('image messages reach the recipient, who may then see the image; strangers may not', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const mallory = await registerUser(relay.url)
    const { image } = (await upload(relay.url, ann.token, await makeImage('png', 70, 50))).body
    expect((await download(relay.url, ben.token, image.id)).status).toBe(404)

    const benSocket = await connect(relay.url, ben.token)
    const live = nextEvent(benSocket, 'message')
    const sent = await sendImage(ann, ben, image.id, 'look at this')
    expect(sent.status).toBe(201)
    expect(sent.body.message).toMatchObject({ text: 'look at this', image })
    expect((await live).data.image).toEqual(image)
    benSocket.close()
    const withoutCaption = await sendImage(ann, ben, image.id)
    expect(withoutCaption.body.message).toMatchObject({ text: null, image })

    expect((await download(relay.url, ben.token, image.id)).status).toBe(200)
    expect((await download(relay.url, ben.token, image.id, { size: 'thumb' })).status).toBe(200)
    const stranger = await download(relay.url, mallory.token, image.id)
    expect(stranger.status).toBe(404)
    expect(JSON.parse(stranger.bytes.toString())).toMatchObject({ error: { code: 'image_not_found' } })
    expect((await download(relay.url, null, image.id)).status).toBe(401)
  })

  it('only the uploader can attach an image; a message needs text or an image', async ({ relay }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const { image } = (await upload(relay.url, ben.token, await makeImage('png', 20, 20, '#101010'))).body
    const borrowed = await sendImage(ann, ben, image.id)
    expect(borrowed).toMatchObject({ status: 404, body: { error: { code: 'image_not_found' } } })
    const empty = await http(relay.url, 'POST', '/messages', {
      token: ann.token,
      body: { clientId: randomUUID(), recipientId: ben.user.id },
    })
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } })
  })

  it('deleting an image message stops serving the image to the other participant', async ({ relay }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const { image } = (await upload(relay.url, ann.token, await makeImage('png', 21, 21, '#202020'))).body
    const sent = await sendImage(ann, ben, image.id)
    expect((await download(relay.url, ben.token, image.id)).status).toBe(200)
    const deleted = await http<MessageResponse>(relay.url, 'DELETE', `/messages/${sent.body.message.id}`, {
      token: ann.token,
    })
    expect(deleted.body.message).toMatchObject({ image: null, text: null })
    expect((await download(relay.url, ben.token, image.id)).status).toBe(404)
    const feed = await http<{ events: FeedEvent[] }>(relay.url, 'GET', '/sync?after=0&limit=1000', {
      token: ben.token,
    })
    const replayed = feed.body.events.filter(
      (e) => e.type === 'message' && (e.data as Message).id === sent.body.message.id,
    )
    expect(replayed.map((e) => (e.data as Message).image)).toEqual([null])
  })

  it('avatars: a 256 px square anyone signed in can see; only your own upload; null removes it', async ({
    relay,
  }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const stranger = await registerUser(relay.url)
    const { image } = (await upload(relay.url, ann.token, await makeImage('jpeg', 400, 300))).body
    const benSocket = await connect(relay.url, ben.token)
    const userUpdated = nextEvent(benSocket, 'user_updated')
    const set = await http<{ user: OwnUser }>(relay.url, 'PATCH', `/users/${ann.user.id}`, {
      token: ann.token,
      body: { avatarImageId: image.id },
    })
    expect(set.body.user.avatarImageId).toBe(image.id)
    expect((await userUpdated).data).toMatchObject({ avatarImageId: image.id })
    benSocket.close()
    // A stranger meets the picture where they can meet Ann: in a search for her username.
    const seen = await http<{ users: PublicUser[] }>(relay.url, 'GET', `/users?q=${ann.user.username}`, {
      token: stranger.token,
    })
    expect(seen.body.users[0]?.avatarImageId).toBe(image.id)
    const avatar = await download(relay.url, stranger.token, image.id, { size: 'avatar' })
    expect(avatar.status).toBe(200)
    expect(avatar.headers.get('content-type')).toBe('image/jpeg')
    expect(await sharp(avatar.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 256, height: 256 })

    const theft = await http(relay.url, 'PATCH', `/users/${stranger.user.id}`, {
      token: stranger.token,
      body: { avatarImageId: image.id },
    })
    expect(theft).toMatchObject({ status: 404, body: { error: { code: 'image_not_found' } } })
    const removed = await http<{ user: OwnUser }>(relay.url, 'PATCH', `/users/${ann.user.id}`, {
      token: ann.token,
      body: { avatarImageId: null },
    })
    expect(removed.body.user.avatarImageId).toBeNull()
    expect((await download(relay.url, stranger.token, image.id, { size: 'avatar' })).status).toBe(404)
  })

  it('collects images nothing uses after the grace period, and keeps the rest', async ({ relay }) => {
    const [ann, ben] = await registerContacts(relay.url)
    const unused = (await upload(relay.url, ann.token, await makeImage('png', 11, 11, '#111111'))).body.image
    const attached = (await upload(relay.url, ann.token, await makeImage('png', 12, 12, '#121212'))).body
      .image
    const retracted = (await upload(relay.url, ann.token, await makeImage('png', 13, 13, '#131313'))).body
      .image
    await sendImage(ann, ben, attached.id)
    const gone = await sendImage(ann, ben, retracted.id)
    await http(relay.url, 'DELETE', `/messages/${gone.body.message.id}`, { token: ann.token })

    const images = relay.app.services.images
    expect(await images.collectGarbage()).toBe(0) // all are within their grace period
    now += 25 * 3600 * 1000
    expect(await images.collectGarbage()).toBeGreaterThanOrEqual(2)
    expect((await download(relay.url, ann.token, unused.id)).status).toBe(404)
    expect((await download(relay.url, ann.token, retracted.id)).status).toBe(404)
    expect((await download(relay.url, ann.token, attached.id)).status).toBe(200)
    expect((await download(relay.url, ben.token, attached.id, { size: 'thumb' })).status).toBe(200)
    const leftovers = storedUnder(relay, 'images').filter(
      (f) => f.includes(unused.id) || f.includes(retracted.id),
    )
    expect(leftovers).toEqual([])
    // A new upload of collected bytes works again.
    const back = await upload(relay.url, ann.token, await makeImage('png', 11, 11, '#111111'))
    expect(back.body.image.id).toBe(unused.id)
    expect((await download(relay.url, ann.token, unused.id)).status).toBe(200)
  })
})
