import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { MessageView, Result } from '@parley/shared'
import { dmKey } from '@parley/shared'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { applyEvents } from '../src/core/db/apply'
import type { LocalDb } from '../src/core/db/local-db'
import type { MediaSize } from '../src/core/db/schema'
import { contactViews } from '../src/core/db/views/contacts'
import { messageViews } from '../src/core/db/views/messages'
import { MediaCache, type MediaFile } from '../src/core/media/media-cache'
import { conversation, startContacts, type startCore, type TestCore, waitFor } from './helpers/core'
import { startProxy } from './helpers/proxy'
import { http, startRelay } from './helpers/relay'
import { relayConversation, secondDevice } from './helpers/relay-truth'
import { feed, ME, message, openTestDb, wireUser } from './helpers/store'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup.length = 0
})

const png = (width = 64, height = 48, background = '#3366cc') =>
  sharp({ create: { width, height, channels: 3, background } })
    .png()
    .toBuffer()

/** A fetch that counts the image downloads going through it. */
function countingFetch() {
  const counter = { images: 0, uploads: 0 }
  const counted: typeof fetch = (input, init) => {
    const url = String(input instanceof Request ? input.url : input)
    if (url.includes('/images/')) counter.images += 1
    if (url.endsWith('/uploadimage')) counter.uploads += 1
    return fetch(input, init)
  }
  return { counter, fetch: counted }
}

/** Two signed-in cores that are mutual contacts, stopped after the test. */
async function pair(relayUrl: string, options: Parameters<typeof startCore>[1] = {}) {
  const contacts = await startContacts(relayUrl, options)
  cleanup.push(contacts.dispose)
  return contacts
}

async function imageMessage(core: TestCore, peerId: number): Promise<MessageView> {
  return waitFor(async () => (await conversation(core, peerId)).find((m) => m.image && !m.image.local))
}

describe('the store keeps images and profile pictures from the feed', () => {
  let db: LocalDb | undefined
  afterEach(async () => {
    await db?.close()
    db = undefined
  })

  it('an incoming message keeps its image; a user keeps their avatar', async () => {
    db = await openTestDb()
    const image = { id: 'a'.repeat(64), width: 640, height: 480, bytes: 1234, mime: 'image/jpeg' as const }
    const avatar = 'b'.repeat(64)
    const user = { id: 2, username: 'grace', firstName: 'Grace', lastName: 'Hopper', createdAt: 1 }
    applyEvents(
      db,
      ME,
      feed(1, [
        {
          type: 'contact_added',
          data: { user: wireUser(user), status: 'accepted', createdAt: 2, updatedAt: 2, acceptedAt: 2 },
        },
        { type: 'message', data: message({ id: 5, text: null, image }) },
        { type: 'user_updated', data: wireUser({ ...user, avatarImageId: avatar }) },
      ]),
      1,
    )
    const rows = db.all(db.kysely.selectFrom('messages').selectAll())
    expect(messageViews(db, ME, rows)[0]).toMatchObject({
      text: null,
      image: { id: image.id, width: 640, height: 480, mime: 'image/jpeg', local: false },
    })
    expect(contactViews(db)[0]?.user.avatarImageId).toBe(avatar)
    // A delete takes the image away with the text.
    applyEvents(
      db,
      ME,
      feed(4, [{ type: 'message_deleted', data: message({ id: 5, text: null, image: null, deletedAt: 9 }) }]),
      1,
    )
    expect(messageViews(db, ME, db.all(db.kysely.selectFrom('messages').selectAll()))[0]?.image).toBeNull()
  })
})

describe('the media cache', () => {
  let db: LocalDb | undefined
  afterEach(async () => {
    await db?.close()
    db = undefined
  })

  function cacheWith(files: Map<string, MediaFile>, capBytes: number) {
    const calls: string[] = []
    const fetchImage = async (id: string, size: MediaSize): Promise<Result<MediaFile>> => {
      calls.push(`${size}/${id}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
      const file = files.get(id)
      return file
        ? { ok: true, value: file }
        : { ok: false, error: { code: 'image_not_found', message: 'no such image' } }
    }
    const cache = new MediaCache({
      db: db!,
      dir: mkdtempSync(path.join(tmpdir(), 'parley-media-')),
      fetchImage,
      capBytes,
    })
    return { cache, calls }
  }

  const id = (n: number) => n.toString(16).padStart(64, '0')
  const file = (n: number, bytes = 300): MediaFile => ({ mime: 'image/webp', bytes: Buffer.alloc(bytes, n) })

  it('evicts the least recently used files to stay under its cap, never pinned ones', async () => {
    db = await openTestDb()
    const files = new Map([1, 2, 3, 4, 5].map((n) => [id(n), file(n)]))
    const { cache, calls } = cacheWith(files, 1000)
    cache.put(id(9), 'full', file(9, 300), true)
    for (const n of [1, 2]) expect((await cache.get(id(n), 'thumb')).ok).toBe(true)
    await cache.get(id(1), 'thumb') // 1 is now used more recently than 2
    expect(calls).toHaveLength(2)
    await cache.get(id(3), 'thumb') // 1200 bytes: 2 goes
    expect(cache.totalBytes()).toBeLessThanOrEqual(1000)
    await cache.get(id(1), 'thumb')
    expect(calls).toHaveLength(3)
    await cache.get(id(2), 'thumb')
    expect(calls).toHaveLength(4)
    for (const n of [4, 5]) await cache.get(id(n), 'thumb')
    expect(cache.totalBytes()).toBeLessThanOrEqual(1000)
    // The pinned original stayed through all of it.
    expect(await cache.local(id(9), 'full')).toMatchObject({ mime: 'image/webp' })
    expect((await cache.local(id(9), 'full'))?.bytes.length).toBe(300)
  })

  it('shares one download between concurrent requests, and remembers a 404 for a while', async () => {
    db = await openTestDb()
    const { cache, calls } = cacheWith(new Map([[id(1), file(1)]]), 10_000)
    const results = await Promise.all([1, 2, 3, 4].map(() => cache.get(id(1), 'thumb')))
    expect(results.every((r) => r.ok && r.value.bytes.length === 300)).toBe(true)
    expect(calls).toEqual([`thumb/${id(1)}`])
    for (let i = 0; i < 5; i++) {
      const missing = await cache.get(id(7), 'full')
      expect(missing.ok === false && missing.error.code).toBe('image_not_found')
    }
    expect(calls.filter((c) => c.endsWith(id(7)))).toHaveLength(1)
  })
})

describe('images between two cores through a real relay', () => {
  it('a large picture reports its upload as it goes, not only at the start and the end', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const { cores, b } = await pair(relay.url)
    // Random pixels do not compress: about 1.7 MB of PNG.
    const noise = Buffer.from(Array.from({ length: 760 * 760 * 3 }, () => Math.floor(Math.random() * 256)))
    const picture = await sharp(noise, { raw: { width: 760, height: 760, channels: 3 } })
      .png()
      .toBuffer()
    expect(picture.length).toBeGreaterThan(1_000_000)

    const sent = await cores.alice.ok('messages.sendImage', {
      conversation: dmKey(b.user.id),
      dataBase64: picture.toString('base64'),
    })
    await waitFor(async () => (await imageMessage(cores.alice, b.user.id)).id !== null)
    const progress = cores.alice
      .events('media.uploadProgress')
      .filter((p) => p.localId === sent.localId)
      .map((p) => p.sentBytes)
    expect(progress[0]).toBe(0)
    expect(progress.at(-1)).toBe(picture.length)
    const between = progress.filter((sentBytes) => sentBytes > 0 && sentBytes < picture.length)
    expect(between.length).toBeGreaterThanOrEqual(3)
    expect(progress).toEqual([...progress].sort((x, y) => x - y))
  })

  it('an image arrives with its thumbnail, which is fetched once and then served from disk', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const counting = countingFetch()
    const { cores, a, b } = await pair(relay.url, { fetch: counting.fetch })
    const picture = await png()

    const sent = await cores.alice.ok('messages.sendImage', {
      conversation: dmKey(b.user.id),
      dataBase64: picture.toString('base64'),
      text: 'the view',
    })
    expect(sent).toMatchObject({
      state: 'pending',
      text: 'the view',
      image: { width: 64, height: 48, mime: 'image/png', local: true },
    })
    // The sender sees the picture at once, from its own bytes.
    const preview = await cores.alice.ok('media.get', { imageId: sent.image!.id, size: 'thumb' })
    expect(Buffer.from(preview.dataBase64, 'base64').equals(picture)).toBe(true)

    const received = await imageMessage(cores.bob, a.user.id)
    expect(received).toMatchObject({ text: 'the view', clientId: sent.clientId })
    expect(received.image).toMatchObject({ width: 64, height: 48, local: false })
    await waitFor(async () => (await imageMessage(cores.alice, b.user.id)).id !== null)
    expect((await imageMessage(cores.alice, b.user.id)).image?.id).toBe(received.image?.id)
    const progress = cores.alice.events('media.uploadProgress').filter((p) => p.localId === sent.localId)
    expect(progress.map((p) => p.sentBytes)).toEqual([0, picture.length])
    expect(progress.every((p) => p.totalBytes === picture.length)).toBe(true)

    const before = counting.counter.images
    const thumb = await cores.bob.ok('media.get', { imageId: received.image!.id, size: 'thumb' })
    expect(thumb.mime).toBe('image/webp')
    const meta = await sharp(Buffer.from(thumb.dataBase64, 'base64')).metadata()
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 64, 48])
    expect(counting.counter.images).toBe(before + 1)
    // Again: from disk, no request; and still so with the relay gone.
    expect(await cores.bob.ok('media.get', { imageId: received.image!.id, size: 'thumb' })).toEqual(thumb)
    expect(counting.counter.images).toBe(before + 1)
    const full = await cores.bob.ok('media.get', { imageId: received.image!.id, size: 'full' })
    expect(full.mime).toBe('image/png')
    expect(counting.counter.images).toBe(before + 2)
    await relay.close()
    expect(await cores.bob.ok('media.get', { imageId: received.image!.id, size: 'thumb' })).toEqual(thumb)
    const notCached = await cores.bob.call('media.get', { imageId: received.image!.id, size: 'avatar' })
    expect(notCached.ok === false && notCached.error.code).toBe('offline')
  })

  it('an image written offline survives a restart and is uploaded and sent once when the relay is back', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const proxy = await startProxy(Number(new URL(relay.url).port))
    cleanup.push(() => proxy.close())
    const { cores, a, b } = await pair(proxy.url)
    proxy.goOffline()
    await waitFor(async () => (await cores.alice.ok('connection.get', {})).state === 'connecting')

    const picture = await png(80, 60, '#cc6633')
    const sent = await cores.alice.ok('messages.sendImage', {
      conversation: dmKey(b.user.id),
      dataBase64: picture.toString('base64'),
    })
    expect(sent).toMatchObject({ state: 'pending', text: null, image: { local: true } })
    cores.alice = await cores.alice.restart()
    const [reopened] = await conversation(cores.alice, b.user.id)
    expect(reopened).toMatchObject({ localId: sent.localId, state: 'pending', image: sent.image })
    const offlinePreview = await cores.alice.ok('media.get', { imageId: sent.image!.id, size: 'full' })
    expect(Buffer.from(offlinePreview.dataBase64, 'base64').equals(picture)).toBe(true)

    proxy.goOnline()
    const received = await imageMessage(cores.bob, a.user.id)
    expect(received.image).toMatchObject({ width: 80, height: 60 })
    await waitFor(async () => (await conversation(cores.alice, b.user.id))[0]?.state === 'delivered')
    const phone = await secondDevice(relay.url, a)
    const onRelay = await relayConversation(relay.url, phone, b.user.id)
    expect(onRelay.map((m) => [m.clientId, m.image?.id])).toEqual([[sent.clientId, received.image!.id]])
    expect(await conversation(cores.bob, a.user.id)).toHaveLength(1)
  })

  it('bytes that are not a picture are refused at once, whatever they are called, and nothing is queued', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const { cores, b } = await pair(relay.url)
    const refused = await cores.alice.call('messages.sendImage', {
      conversation: dmKey(b.user.id),
      dataBase64: Buffer.from('just some text, not a picture').toString('base64'),
    })
    expect(refused.ok === false && refused.error.code).toBe('unsupported_image')
    expect(await conversation(cores.alice, b.user.id)).toEqual([])
  })

  it('a picture the relay cannot decode ends as failed, and retrying it is refused as hopeless', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const { cores, b } = await pair(relay.url)
    // A PNG's signature and header, then garbage: it looks like a picture until it is decoded.
    const damaged = Buffer.concat([(await png()).subarray(0, 33), Buffer.alloc(400, 7)])
    const sent = await cores.alice.ok('messages.sendImage', {
      conversation: dmKey(b.user.id),
      dataBase64: damaged.toString('base64'),
    })
    const failed = await waitFor(async () =>
      (await conversation(cores.alice, b.user.id)).find(
        (m) => m.localId === sent.localId && m.state === 'failed',
      ),
    )
    expect(failed.failure?.code).toBe('invalid_image')
    const retry = await cores.alice.call('messages.retry', { localId: sent.localId })
    expect(retry.ok === false && retry.error.code).toBe('not_retryable')
    expect(await cores.alice.ok('messages.discard', { localId: sent.localId })).toBeNull()
    expect(await conversation(cores.alice, b.user.id)).toEqual([])
  })

  it('profile pictures reach contacts and are fetched as avatars', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const { cores, b } = await pair(relay.url)
    const token = await secondDevice(relay.url, b)
    const form = new FormData()
    form.append('file', new Blob([await png(300, 200, '#22aa44')]), 'me.png')
    const upload = await fetch(`${relay.url}/uploadimage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    })
    expect(upload.status).toBe(201)
    const { image } = (await upload.json()) as { image: { id: string } }
    const patched = await http(relay.url, 'PATCH', `/users/${b.user.id}`, {
      token,
      body: { avatarImageId: image.id },
    })
    expect(patched.status).toBe(200)

    const contact = await waitFor(async () =>
      (await cores.alice.ok('contacts.list', {})).find((c) => c.user.avatarImageId === image.id),
    )
    const avatar = await cores.alice.ok('media.get', { imageId: contact.user.avatarImageId!, size: 'avatar' })
    const meta = await sharp(Buffer.from(avatar.dataBase64, 'base64')).metadata()
    expect([avatar.mime, meta.width, meta.height]).toEqual(['image/jpeg', 256, 256])
    // Bob's own core learns its new picture too.
    await waitFor(async () => (await cores.bob.ok('auth.session', {}))?.user.avatarImageId === image.id)
  })

  it('sets and removes your own profile picture through the bridge', async () => {
    const relay = await startRelay()
    cleanup.push(() => relay.close())
    const { cores, a } = await pair(relay.url)
    const dataBase64 = (await png(120, 90, '#aa2244')).toString('base64')
    const set = await cores.alice.ok('profile.setAvatar', { dataBase64 })
    expect(set.avatarImageId).toMatch(/^[0-9a-f]{64}$/)
    const token = await secondDevice(relay.url, a)
    const onRelay = await http<{ user: { avatarImageId: string | null } }>(
      relay.url,
      'GET',
      `/users/${a.user.id}`,
      {
        token,
      },
    )
    expect(onRelay.body.user.avatarImageId).toBe(set.avatarImageId)
    const seenByBob = await waitFor(async () =>
      (await cores.bob.ok('contacts.list', {})).find((c) => c.user.avatarImageId === set.avatarImageId),
    )
    const avatar = await cores.bob.ok('media.get', { imageId: seenByBob.user.avatarImageId!, size: 'avatar' })
    expect(avatar.mime).toBe('image/jpeg')

    const text = Buffer.from('hello, not a picture').toString('base64')
    const refused = await cores.alice.call('profile.setAvatar', { dataBase64: text })
    expect(refused).toMatchObject({ ok: false, error: { code: 'unsupported_image' } })
    const removed = await cores.alice.ok('profile.update', { avatarImageId: null })
    expect(removed.avatarImageId).toBeNull()
    await waitFor(async () => (await cores.bob.ok('contacts.list', {}))[0]?.user.avatarImageId === null)
  })
})
