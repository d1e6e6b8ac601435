import { randomUUID } from 'node:crypto'
import type { FeedEvent, GroupEvent, Message, SyncResponse } from '@parley/shared'
import { describe, expect } from 'vitest'
import {
  befriend,
  connect,
  emit,
  http,
  nextEvent,
  record,
  registerContacts,
  registerUser,
  sendMessage,
  sleep,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import { downloadFile, pdfBytes, send, uploaded } from './helpers/files'
import { createGroup, groupLog, ownerWithContacts, sendToGroup } from './helpers/groups'
import { makeImage, upload } from './helpers/images'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()
const codeOf = (body: unknown) => (body as { error?: { code: string } }).error?.code

describe.each(dialects)('replies, forwards and delete for me (%s)', (dialect) => {
  const it = withRelay[dialect]

  describe('replies', () => {
    it('a reply names a message of the same conversation, deleted or not; the relay checks nothing else of it', async ({
      relay,
    }) => {
      const [ann, ben] = await registerContacts(relay.url)
      const first = (await sendMessage(ben, ann, 'lunch?')).message
      const reply = await send(ann, { recipientId: ben.user.id, text: 'yes!', replyToId: first.id })
      expect(reply.status).toBe(201)
      expect(reply.body.message).toMatchObject({ replyToId: first.id, text: 'yes!' })

      await http(relay.url, 'DELETE', `/messages/${first.id}`, { token: ben.token })
      const toDeleted = await send(ben, { recipientId: ann.user.id, text: 'never mind', replyToId: first.id })
      expect(toDeleted.body.message.replyToId).toBe(first.id)
      // A deleted reply shows nothing of what it answered either.
      await http(relay.url, 'DELETE', `/messages/${reply.body.message.id}`, { token: ann.token })
      const page = await http<{ messages: Message[] }>(relay.url, 'GET', `/messages?with=${ben.user.id}`, {
        token: ann.token,
      })
      expect(page.body.messages.find((m) => m.id === reply.body.message.id)?.replyToId).toBeNull()
    })

    it('a reply to a message of another conversation, or to none, is reply_not_found', async ({ relay }) => {
      const [ann, ben] = await registerContacts(relay.url)
      const cat = await registerUser(relay.url)
      await befriend(ann, cat)
      const elsewhere = (await sendMessage(ann, cat, 'to Cat')).message
      const [group] = [await createGroup(ann, [ben])]
      const inGroup = (await sendToGroup(ann, group!.id, 'in the group')).message
      for (const replyToId of [elsewhere.id, inGroup.id, 999_999_999]) {
        const result = await send(ann, { recipientId: ben.user.id, text: 'hm', replyToId })
        expect({ replyToId, status: result.status, code: codeOf(result.body) }).toEqual({
          replyToId,
          status: 404,
          code: 'reply_not_found',
        })
      }
      const ownConversation = (await sendMessage(ann, ben, 'ours')).message
      const intoGroup = await send(ann, { groupId: group!.id, text: 'x', replyToId: ownConversation.id })
      expect(codeOf(intoGroup.body)).toBe('reply_not_found')
    })

    it('in a group, a reply to a message from before you joined is reply_not_found', async ({ relay }) => {
      const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
      const group = await createGroup(ann, [ben!])
      const early = (await sendToGroup(ann, group.id, 'before Cat')).message
      await http(relay.url, 'POST', `/groups/${group.id}/members`, {
        token: ann.token,
        body: { userIds: [cat!.user.id] },
      })
      const late = (await sendToGroup(ann, group.id, 'after Cat')).message
      const refused = await send(cat!, { groupId: group.id, text: 'what?', replyToId: early.id })
      expect({ status: refused.status, code: codeOf(refused.body) }).toEqual({
        status: 404,
        code: 'reply_not_found',
      })
      const ok = await send(cat!, { groupId: group.id, text: 'hi', replyToId: late.id })
      expect(ok.body.message.replyToId).toBe(late.id)
      // Ben, there from the start, may answer the early one.
      expect((await send(ben!, { groupId: group.id, text: 'yes', replyToId: early.id })).status).toBe(201)
    })
  })

  describe('forwards', () => {
    it('copies text, picture, file and voice into a group, marked forwarded, without a new upload', async ({
      relay,
    }) => {
      const [ann, ben, cat] = await ownerWithContacts(relay.url, 2)
      const group = await createGroup(ann, [cat!], 'Elsewhere')
      const image = (await upload(relay.url, ben!.token, await makeImage('png', 20, 20, '#abcdef'))).body
        .image
      const file = await uploaded(ben!, pdfBytes(900), 'spec.pdf')
      const recording = await uploaded(ben!, pdfBytes(700), 'voice.ogg')
      const originals = [
        await send(ben!, { recipientId: ann.user.id, text: 'hello there' }),
        await send(ben!, { recipientId: ann.user.id, imageId: image.id, text: 'a view' }),
        await send(ben!, { recipientId: ann.user.id, fileId: file.id }),
        await send(ben!, {
          recipientId: ann.user.id,
          voice: { fileId: recording.id, durationMs: 1500, waveform: [9] },
        }),
      ].map((r) => r.body.message)
      const filesBefore = await relay.app.db.selectFrom('files').select('id').execute()

      const catSocket = await connect(relay.url, cat!.token)
      try {
        for (const original of originals) {
          const live = nextEvent(catSocket, 'group_event', (e) => e.type === 'message')
          const forward = await send(ann, { groupId: group.id, forwardOf: original.id })
          expect(forward.status).toBe(201)
          const copied = forward.body.message
          expect(copied).toMatchObject({
            groupId: group.id,
            senderId: ann.user.id,
            forwarded: true,
            text: original.text,
            image: original.image,
            file: original.file,
            voice: original.voice,
            replyToId: null,
          })
          expect(((await live).data as Message).forwarded).toBe(true)
        }
      } finally {
        catSocket.close()
      }
      expect(await relay.app.db.selectFrom('files').select('id').execute()).toEqual(filesBefore)
      // Cat, who is not Ben's contact, opens what reached her through the group.
      expect((await downloadFile(relay.url, cat!.token, file.id)).status).toBe(200)
      expect((await downloadFile(relay.url, cat!.token, recording.id)).status).toBe(200)
      const picture = await fetch(`${relay.url}/images/${image.id}`, {
        headers: { authorization: `Bearer ${cat!.token}` },
      })
      expect(picture.status).toBe(200)
    })

    it('a forward of a message you cannot see, or of a deleted one, is message_not_found', async ({
      relay,
    }) => {
      const [ann, ben] = await registerContacts(relay.url)
      const [cat, dan] = await registerContacts(relay.url)
      await befriend(ann, cat)
      const theirs = (await sendMessage(cat, dan, 'between Cat and Dan')).message
      const own = (await sendMessage(ann, ben, 'soon gone')).message
      await http(relay.url, 'DELETE', `/messages/${own.id}`, { token: ann.token })
      for (const forwardOf of [theirs.id, own.id, 999_999_999]) {
        const result = await send(ann, { recipientId: cat.user.id, forwardOf })
        expect({ forwardOf, status: result.status, code: codeOf(result.body) }).toEqual({
          forwardOf,
          status: 404,
          code: 'message_not_found',
        })
      }
    })

    it('over the socket too, and a resend with the same clientId returns the first forward', async ({
      relay,
    }) => {
      const [ann, ben] = await registerContacts(relay.url)
      const original = (await sendMessage(ben, ann, 'pass it on')).message
      const socket = await connect(relay.url, ann.token)
      try {
        const payload = { clientId: randomUUID(), recipientId: ben.user.id, forwardOf: original.id }
        const first = await emit(socket, 'message', payload)
        const again = await emit(socket, 'message', payload)
        expect(first.ok && again.ok).toBe(true)
        if (!first.ok || !again.ok) return
        expect(again.message).toEqual(first.message)
        expect(first.message).toMatchObject({ text: 'pass it on', forwarded: true })
        const conflict = await emit(socket, 'message', {
          ...payload,
          forwardOf: undefined,
          text: 'other',
        } as never)
        expect(conflict).toMatchObject({ ok: false, error: { code: 'client_id_conflict' } })
      } finally {
        socket.close()
      }
    })
  })

  describe('delete for me', () => {
    it('hides a message for its caller on every device of theirs, and for nobody else', async ({ relay }) => {
      const [ann, ben] = await registerContacts(relay.url)
      const kept = (await sendMessage(ben, ann, 'keep me')).message
      const hidden = (await sendMessage(ben, ann, 'hide me')).message
      const annOther = await connect(relay.url, ann.token)
      const benSocket = await connect(relay.url, ben.token)
      const benHeard = record(benSocket, 'message_hidden')
      try {
        const heard = nextEvent(annOther, 'message_hidden')
        const result = await http<{ seq: number | null }>(relay.url, 'POST', `/messages/${hidden.id}/hide`, {
          token: ann.token,
        })
        expect(result.status).toBe(200)
        expect(result.body.seq).toEqual(expect.any(Number))
        expect(await heard).toEqual({
          seq: result.body.seq,
          type: 'message_hidden',
          data: { messageId: hidden.id },
        })
        // Again: nothing changes.
        const again = await http(relay.url, 'POST', `/messages/${hidden.id}/hide`, { token: ann.token })
        expect(again.body).toEqual({ seq: null })
        await sleep(200)
        expect(benHeard).toEqual([])
      } finally {
        annOther.close()
        benSocket.close()
      }
      const annsPage = await http<{ messages: Message[] }>(
        relay.url,
        'GET',
        `/messages?with=${ben.user.id}`,
        {
          token: ann.token,
        },
      )
      expect(annsPage.body.messages.map((m) => m.id)).toEqual([kept.id])
      const bensPage = await http<{ messages: Message[] }>(
        relay.url,
        'GET',
        `/messages?with=${ann.user.id}`,
        {
          token: ben.token,
        },
      )
      expect(bensPage.body.messages.map((m) => m.id)).toEqual([hidden.id, kept.id])

      // A device catching up from the start never sees it, and learns that it was hidden.
      const feed = await http<SyncResponse>(relay.url, 'GET', '/sync?after=0&limit=1000', {
        token: ann.token,
      })
      const aboutHidden = feed.body.events.filter(
        (e: FeedEvent) =>
          (e.type === 'message_hidden' && e.data.messageId === hidden.id) ||
          (e.type === 'message' && e.data.id === hidden.id),
      )
      expect(aboutHidden.map((e) => e.type)).toEqual(['message_hidden'])
      expect(feed.body.events.some((e) => e.type === 'message' && e.data.id === kept.id)).toBe(true)
      // A page that ends on a left-out event still moves the cursor past it.
      const messageSeq = (
        await relay.app.db
          .selectFrom('feed_events')
          .select('seq')
          .where('user_id', '=', ann.user.id)
          .where('message_id', '=', hidden.id)
          .executeTakeFirstOrThrow()
      ).seq
      const short = await http<SyncResponse>(relay.url, 'GET', `/sync?after=${messageSeq - 1}&limit=1`, {
        token: ann.token,
      })
      expect(short.body).toMatchObject({ events: [], cursor: messageSeq, hasMore: true })
      const bensFeed = await http<SyncResponse>(relay.url, 'GET', '/sync?after=0&limit=1000', {
        token: ben.token,
      })
      expect(bensFeed.body.events.some((e) => e.type === 'message_hidden')).toBe(false)
    })

    it("in a group, the hidden message leaves the caller's pages and log catch-up only", async ({
      relay,
    }) => {
      const [ann, ben] = await ownerWithContacts(relay.url, 1)
      const group = await createGroup(ann, [ben!])
      const hidden = (await sendToGroup(ann, group.id, 'oops')).message
      expect(
        (await http(relay.url, 'POST', `/messages/${hidden.id}/hide`, { token: ben!.token })).status,
      ).toBe(200)
      const ids = (events: GroupEvent[]) =>
        events.flatMap((e) => (e.type === 'message' ? [(e.data as Message).id] : []))
      expect(ids((await groupLog(ben!, group.id)).body.events)).toEqual([])
      expect(ids((await groupLog(ann, group.id)).body.events)).toEqual([hidden.id])
      const page = await http<{ messages: Message[] }>(relay.url, 'GET', `/messages?group=${group.id}`, {
        token: ben!.token,
      })
      expect(page.body.messages).toEqual([])
    })

    it('a message you cannot see cannot be hidden: message_not_found, and no event', async ({ relay }) => {
      const [ann, ben] = await registerContacts(relay.url)
      const stranger = await registerUser(relay.url)
      const message = (await sendMessage(ann, ben, 'ours')).message
      const result = await http(relay.url, 'POST', `/messages/${message.id}/hide`, { token: stranger.token })
      expect({ status: result.status, code: codeOf(result.body) }).toEqual({
        status: 404,
        code: 'message_not_found',
      })
      const feed = await http<SyncResponse>(relay.url, 'GET', '/sync?after=0', { token: stranger.token })
      expect(feed.body.events).toEqual([])
    })
  })
})
