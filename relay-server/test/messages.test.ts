import { randomUUID } from 'node:crypto'
import type { FeedEvent, Message, MessageHistoryResponse, MessageResponse } from '@parley/shared'
import { describe, expect } from 'vitest'
import {
  befriend,
  connect,
  emit,
  http,
  nextEvent,
  registerContacts,
  registerUser,
  sendMessage,
  sleep,
  type TestUser,
} from './helpers/client'
import { dialects } from './helpers/dialects'
import { download, makeImage, upload } from './helpers/images'
import { relayTests, type TestRelay } from './helpers/relay'

const withRelay = relayTests()

describe.each(dialects)('messages (%s)', (dialect) => {
  const it = withRelay[dialect]

  const pair = (relay: TestRelay) => registerContacts(relay.url)
  const page = async (user: TestUser, peer: TestUser, query = '') =>
    (
      await http<{ messages: Message[]; hasMore: boolean }>(
        user.base,
        'GET',
        `/messages?with=${peer.user.id}${query}`,
        {
          token: user.token,
        },
      )
    ).body

  it('a socket send is acked with the message and its seq, and arrives live at the recipient and the sender’s other device', async ({
    relay,
  }) => {
    const [ann, ben] = await pair(relay)
    const annPhone = await connect(relay.url, ann.token)
    const annLaptop = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    try {
      const atBen = nextEvent(benSocket, 'message')
      const atLaptop = nextEvent(annLaptop, 'message')
      const ack = await emit(annPhone, 'message', {
        clientId: randomUUID(),
        recipientId: ben.user.id,
        text: 'Hi Ben 👋',
      })
      if (!ack.ok) throw new Error(ack.error.message)
      expect(ack.message).toMatchObject({
        senderId: ann.user.id,
        recipientId: ben.user.id,
        text: 'Hi Ben 👋',
        editedAt: null,
      })
      expect(ack.seq).toBeGreaterThan(0)
      const live = await atBen
      expect(live).toMatchObject({ type: 'message', data: ack.message })
      expect((await atLaptop).seq).toBe(ack.seq)
    } finally {
      for (const s of [annPhone, annLaptop, benSocket]) s.close()
    }
  })

  it('a resend with the same clientId returns the first message and stores nothing new', async ({
    relay,
  }) => {
    const [ann, ben] = await pair(relay)
    const body = { clientId: randomUUID(), recipientId: ben.user.id, text: 'only once' }
    const first = await http<MessageResponse>(relay.url, 'POST', '/messages', { token: ann.token, body })
    const again = await http<MessageResponse>(relay.url, 'POST', '/messages', { token: ann.token, body })
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.body).toEqual(first.body)
    const socket = await connect(relay.url, ann.token)
    const viaSocket = await emit(socket, 'message', body)
    socket.close()
    expect(viaSocket).toEqual({ ok: true, ...first.body })
    expect((await page(ben, ann)).messages).toHaveLength(1)
  })

  it('concurrent resends in the same instant still make one message', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const body = { clientId: randomUUID(), recipientId: ben.user.id, text: 'racing' }
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        http<MessageResponse>(relay.url, 'POST', '/messages', { token: ann.token, body }),
      ),
    )
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([201]))
    expect(new Set(results.map((r) => r.body.message.id)).size).toBe(1)
    expect(new Set(results.map((r) => r.body.seq)).size).toBe(1)
    expect((await page(ben, ann)).messages).toHaveLength(1)
  })

  it('reusing a clientId for a different message is a conflict', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const clientId = randomUUID()
    await http(relay.url, 'POST', '/messages', {
      token: ann.token,
      body: { clientId, recipientId: ben.user.id, text: 'one' },
    })
    const other = await http(relay.url, 'POST', '/messages', {
      token: ann.token,
      body: { clientId, recipientId: ben.user.id, text: 'two' },
    })
    expect(other.status).toBe(409)
    expect(other.body).toMatchObject({ error: { code: 'client_id_conflict' } })
  })

  it('accepts 4,000 characters and refuses 4,001 or only whitespace', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const send = (text: string) =>
      http(relay.url, 'POST', '/messages', {
        token: ann.token,
        body: { clientId: randomUUID(), recipientId: ben.user.id, text },
      })
    expect((await send('é'.repeat(4000))).status).toBe(201)
    const long = await send('x'.repeat(4001))
    expect(long.status).toBe(400)
    expect(long.body).toMatchObject({ error: { code: 'validation_failed' } })
    expect((await send('  \n ')).status).toBe(400)
  })

  it('an edit keeps every earlier body with the time it was written', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const sent = await sendMessage(ann, ben, 'first')
    const id = sent.message.id
    const edit = (text: string) =>
      http<MessageResponse>(relay.url, 'PATCH', `/messages/${id}`, { token: ann.token, body: { text } })
    const second = await edit('second')
    expect(second.status).toBe(200)
    expect(second.body.message).toMatchObject({ text: 'second', editedAt: expect.any(Number) })
    const third = await edit('third')
    const history = await http<MessageHistoryResponse>(relay.url, 'GET', `/messages/${id}/history`, {
      token: ben.token,
    })
    expect(history.body.message.text).toBe('third')
    expect(history.body.versions).toEqual([
      { text: 'first', writtenAt: sent.message.createdAt, replacedAt: second.body.message.editedAt },
      { text: 'second', writtenAt: second.body.message.editedAt, replacedAt: third.body.message.editedAt },
    ])
    const byBen = await http(relay.url, 'PATCH', `/messages/${id}`, {
      token: ben.token,
      body: { text: 'mine now' },
    })
    expect(byBen.status).toBe(403)
    expect(byBen.body).toMatchObject({ error: { code: 'not_message_sender' } })
  })

  it('edits and deletes over the socket reach the other side live', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const { message } = await sendMessage(ann, ben, 'typo hree')
    const annSocket = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    try {
      const updated = nextEvent(benSocket, 'message_updated')
      const edit = await emit(annSocket, 'message_updated', { id: message.id, text: 'typo here' })
      expect(edit).toMatchObject({ ok: true, message: { id: message.id, text: 'typo here' } })
      expect((await updated).data.text).toBe('typo here')
      const deleted = nextEvent(benSocket, 'message_deleted')
      expect(await emit(annSocket, 'message_deleted', { id: message.id })).toMatchObject({ ok: true })
      expect((await deleted).data).toMatchObject({ id: message.id, text: null })
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })

  it('delete for everyone leaves a tombstone without text, history or reactions, and is idempotent', async ({
    relay,
  }) => {
    const [ann, ben] = await pair(relay)
    const sent = await sendMessage(ann, ben, 'regrettable')
    const id = sent.message.id
    await http(relay.url, 'PATCH', `/messages/${id}`, {
      token: ann.token,
      body: { text: 'more regrettable' },
    })
    const benSocket = await connect(relay.url, ben.token)
    await emit(benSocket, 'reaction', { messageId: id, emoji: '😬' })
    const tombstoneLive = nextEvent(benSocket, 'message_deleted')
    const deleted = await http<MessageResponse>(relay.url, 'DELETE', `/messages/${id}`, { token: ann.token })
    expect(deleted.status).toBe(200)
    expect(deleted.body.message).toMatchObject({
      id,
      text: null,
      deletedAt: expect.any(Number),
      reactions: [],
    })
    expect((await tombstoneLive).data.text).toBeNull()
    benSocket.close()
    const history = await http<MessageHistoryResponse>(relay.url, 'GET', `/messages/${id}/history`, {
      token: ben.token,
    })
    expect(history.body.versions).toEqual([])
    expect((await page(ben, ann)).messages[0]).toMatchObject({ id, text: null })
    const again = await http<MessageResponse>(relay.url, 'DELETE', `/messages/${id}`, { token: ann.token })
    expect(again.status).toBe(200)
    expect(again.body.seq).toBeNull()
    const edit = await http(relay.url, 'PATCH', `/messages/${id}`, {
      token: ann.token,
      body: { text: 'back' },
    })
    expect(edit.body).toMatchObject({ error: { code: 'message_deleted' } })
    // Nothing of the text is left anywhere in the database.
    const rows = await relay.app.db
      .selectFrom('message_versions')
      .selectAll()
      .where('message_id', '=', id)
      .execute()
    expect(rows).toEqual([])
    const row = await relay.app.db
      .selectFrom('messages')
      .select('text')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    expect(row.text).toBeNull()
  })

  it('reactions toggle per user and emoji, and show who reacted', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const { message } = await sendMessage(ann, ben, 'react to me')
    const annSocket = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    try {
      await emit(benSocket, 'reaction', { messageId: message.id, emoji: '👍' })
      await emit(annSocket, 'reaction', { messageId: message.id, emoji: '👍' })
      const heart = await emit(benSocket, 'reaction', { messageId: message.id, emoji: '❤️' })
      if (!heart.ok) throw new Error(heart.error.message)
      expect(heart.message.reactions).toEqual([
        { emoji: '👍', userIds: [ben.user.id, ann.user.id] },
        { emoji: '❤️', userIds: [ben.user.id] },
      ])
      const liveAtAnn = nextEvent(annSocket, 'reaction')
      const off = await emit(benSocket, 'reaction', { messageId: message.id, emoji: '👍' })
      if (!off.ok) throw new Error(off.error.message)
      expect(off.message.reactions).toEqual([
        { emoji: '👍', userIds: [ann.user.id] },
        { emoji: '❤️', userIds: [ben.user.id] },
      ])
      expect((await liveAtAnn).data.reactions).toEqual(off.message.reactions)
      // With present, a resend after a lost ack changes nothing and writes nothing.
      const set = await emit(annSocket, 'reaction', { messageId: message.id, emoji: '🎉', present: true })
      const again = await emit(annSocket, 'reaction', { messageId: message.id, emoji: '🎉', present: true })
      if (!set.ok || !again.ok) throw new Error('reaction refused')
      expect(set.seq).toEqual(expect.any(Number))
      expect(again).toMatchObject({ seq: null, message: { reactions: set.message.reactions } })
      const cleared = await emit(annSocket, 'reaction', {
        messageId: message.id,
        emoji: '🎉',
        present: false,
      })
      const clearedAgain = await emit(annSocket, 'reaction', {
        messageId: message.id,
        emoji: '🎉',
        present: false,
      })
      if (!cleared.ok || !clearedAgain.ok) throw new Error('reaction refused')
      expect(cleared.message.reactions).toEqual(off.message.reactions)
      expect(clearedAgain.seq).toBeNull()
      const notEmoji = await emit(benSocket, 'reaction', { messageId: message.id, emoji: 'lol' })
      expect(notEmoji).toMatchObject({ ok: false, error: { code: 'validation_failed' } })
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })

  it('read receipts only move forward, imply delivery, and reach the sender', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const m1 = await sendMessage(ann, ben, 'one')
    const m2 = await sendMessage(ann, ben, 'two')
    const annSocket = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    try {
      const delivered = nextEvent(annSocket, 'delivered')
      expect(await emit(benSocket, 'delivered', { with: ann.user.id, upTo: m2.message.id })).toMatchObject({
        ok: true,
      })
      expect((await delivered).data).toEqual({
        userId: ben.user.id,
        peerId: ann.user.id,
        upTo: m2.message.id,
        at: expect.any(Number),
      })
      const read = nextEvent(annSocket, 'read')
      const first = await emit(benSocket, 'read', { with: ann.user.id, upTo: m1.message.id })
      expect(first).toMatchObject({ ok: true, seq: expect.any(Number) })
      expect((await read).data.upTo).toBe(m1.message.id)
      await emit(benSocket, 'read', { with: ann.user.id, upTo: m2.message.id })
      const backwards = await emit(benSocket, 'read', { with: ann.user.id, upTo: m1.message.id })
      expect(backwards).toEqual({ ok: true, seq: null })
      const elsewhere = await sendMessage(
        ann,
        await registerUser(relay.url).then(async (c) => {
          await befriend(ann, c)
          return c
        }),
      )
      const foreign = await emit(benSocket, 'read', { with: ann.user.id, upTo: elsewhere.message.id })
      expect(foreign).toMatchObject({ ok: false, error: { code: 'message_not_found' } })
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })

  it('a send to someone who blocked you is acked and kept for you, and never reaches them, live, by sync or history, nor after the block is lifted', async ({
    relay,
  }) => {
    const [ann, ben] = await pair(relay)
    const before = await sendMessage(ann, ben, 'before the block')
    await http(relay.url, 'PATCH', `/contacts/${ann.user.id}`, {
      token: ben.token,
      body: { status: 'blocked' },
    })
    const annPhone = await connect(relay.url, ann.token)
    const annLaptop = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    const benHeard: [string, unknown][] = []
    benSocket.onAny((event: string, payload: unknown) => benHeard.push([event, payload]))
    const benSync = async () => {
      const result = await emit(benSocket, 'sync', { after: 0, limit: 1000 })
      if (!result.ok) throw new Error(result.error.message)
      return result.events
    }
    try {
      const benFeedBefore = await benSync()
      const picture = await upload(relay.url, ann.token, await makeImage('png'))
      const body = { clientId: randomUUID(), recipientId: ben.user.id, text: 'why so quiet?' }
      const atLaptop = nextEvent(annLaptop, 'message')
      const ack = await emit(annPhone, 'message', body)
      if (!ack.ok) throw new Error(ack.error.message)
      expect(ack.message).toMatchObject({
        senderId: ann.user.id,
        recipientId: ben.user.id,
        text: 'why so quiet?',
      })
      expect(await atLaptop).toEqual({ seq: ack.seq, type: 'message', data: ack.message })
      // The same clientId again: the same message and seq, as for any send.
      expect(await emit(annPhone, 'message', body)).toEqual(ack)
      const withPicture = await emit(annPhone, 'message', {
        clientId: randomUUID(),
        recipientId: ben.user.id,
        imageId: picture.body.image.id,
      })
      if (!withPicture.ok) throw new Error(withPicture.error.message)
      // Changing it works for Ann and tells Ben nothing either.
      expect(await emit(annPhone, 'message_updated', { id: ack.message.id, text: 'hello?' })).toMatchObject({
        ok: true,
      })
      expect(await emit(annPhone, 'reaction', { messageId: ack.message.id, emoji: '🙏' })).toMatchObject({
        ok: true,
      })
      expect(await emit(annPhone, 'typing', { to: ben.user.id, typing: true })).toEqual({ ok: true })

      const annPage = await page(ann, ben)
      expect(annPage.messages.map((m) => m.id)).toEqual([
        withPicture.message.id,
        ack.message.id,
        before.message.id,
      ])
      const benSees = async () => {
        expect((await page(ben, ann)).messages.map((m) => m.id)).toEqual([before.message.id])
        expect(await benSync()).toEqual(benFeedBefore)
        for (const id of [ack.message.id, withPicture.message.id]) {
          const history = await http(relay.url, 'GET', `/messages/${id}/history`, { token: ben.token })
          expect(history.body).toMatchObject({ error: { code: 'message_not_found' } })
        }
        expect((await download(relay.url, ben.token, picture.body.image.id)).status).toBe(404)
        expect(await emit(benSocket, 'read', { with: ann.user.id, upTo: ack.message.id })).toMatchObject({
          ok: false,
        })
      }
      await benSees()
      expect((await download(relay.url, ann.token, picture.body.image.id)).status).toBe(200)

      // Ben lifts the block: what was sent meanwhile stays Ann's alone; new messages arrive again.
      await http(relay.url, 'PATCH', `/contacts/${ann.user.id}`, {
        token: ben.token,
        body: { status: 'accepted' },
      })
      const benFeedLifted = await benSync()
      expect(benFeedLifted.slice(benFeedBefore.length).map((e) => e.type)).toEqual(['contact_updated'])
      expect((await page(ben, ann)).messages.map((m) => m.id)).toEqual([before.message.id])
      expect((await download(relay.url, ben.token, picture.body.image.id)).status).toBe(404)
      expect(await emit(benSocket, 'read', { with: ann.user.id, upTo: ack.message.id })).toMatchObject({
        ok: false,
        error: { code: 'message_not_found' },
      })
      expect(await emit(annPhone, 'message_updated', { id: ack.message.id, text: 'hello??' })).toMatchObject({
        ok: true,
      })
      expect(await emit(annPhone, 'message_deleted', { id: withPicture.message.id })).toMatchObject({
        ok: true,
      })
      await sleep(200)
      expect((await benSync()).slice(benFeedLifted.length)).toEqual([])
      const after = nextEvent(benSocket, 'message')
      const later = await sendMessage(ann, ben, 'after the block')
      expect((await after).data.id).toBe(later.message.id)
      expect((await page(ben, ann)).messages.map((m) => m.id)).toEqual([later.message.id, before.message.id])
      expect(benHeard.map(([event]) => event).filter((e) => e !== 'user_status_change')).toEqual([
        'contact_updated',
        'message',
      ])
    } finally {
      for (const s of [annPhone, annLaptop, benSocket]) s.close()
    }
  })

  it('pages through a conversation newest first, in both directions of sending', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const ids: number[] = []
    for (let i = 0; i < 7; i++) {
      const from = i % 2 ? ben : ann
      const to = i % 2 ? ann : ben
      ids.push((await sendMessage(from, to, `m${i}`)).message.id)
    }
    const first = await page(ann, ben, '&limit=3')
    expect(first.messages.map((m) => m.id)).toEqual(ids.slice(4).reverse())
    expect(first.hasMore).toBe(true)
    const second = await page(ben, ann, `&limit=3&before=${first.messages.at(-1)!.id}`)
    expect(second.messages.map((m) => m.id)).toEqual(ids.slice(1, 4).reverse())
    const last = await page(ann, ben, `&limit=3&before=${second.messages.at(-1)!.id}`)
    expect(last).toEqual({ messages: [expect.objectContaining({ id: ids[0] })], hasMore: false })
  })

  it('typing goes live to the contact only', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const annSocket = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    try {
      const typing = nextEvent(benSocket, 'typing')
      expect(await emit(annSocket, 'typing', { to: ben.user.id, typing: true })).toEqual({ ok: true })
      expect(await typing).toEqual({ from: ann.user.id, typing: true })
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })

  it('a live event and the same event read back through sync are identical', async ({ relay }) => {
    const [ann, ben] = await pair(relay)
    const benSocket = await connect(relay.url, ben.token)
    try {
      const live = nextEvent(benSocket, 'message')
      const { message } = await sendMessage(ann, ben, 'same both ways')
      const event = await live
      const synced = await http<{ events: FeedEvent[] }>(
        relay.url,
        'GET',
        `/sync?after=${event.seq - 1}&limit=1`,
        {
          token: ben.token,
        },
      )
      expect(synced.body.events).toEqual([event])
      expect(event.data).toEqual(message)
    } finally {
      benSocket.close()
    }
  })
  it('a burst of sends in several conversations keeps each one in order and every feed without holes', async ({
    relay,
  }) => {
    const [ann, ben] = await pair(relay)
    const cleo = await registerUser(relay.url)
    await befriend(ann, cleo)
    const stranger = await registerUser(relay.url)
    const { message: earlier } = await sendMessage(ben, ann, 'to reply to')
    const annSocket = await connect(relay.url, ann.token)
    const benSocket = await connect(relay.url, ben.token)
    try {
      const repeated = randomUUID()
      type Send = {
        socket: typeof annSocket
        to: number
        text: string
        clientId?: string
        replyToId?: number
      }
      const sends: Send[] = []
      for (let i = 0; i < 20; i++) {
        sends.push({ socket: annSocket, to: ben.user.id, text: `ann→ben ${i}` })
        sends.push({ socket: annSocket, to: cleo.user.id, text: `ann→cleo ${i}` })
        sends.push({ socket: benSocket, to: ann.user.id, text: `ben→ann ${i}` })
      }
      // Among the plain sends: a repeat, a reply (not a plain send), a stranger, oneself.
      sends.splice(10, 0, { socket: annSocket, to: ben.user.id, text: 'twice', clientId: repeated })
      sends.splice(20, 0, { socket: annSocket, to: ben.user.id, text: 'a reply', replyToId: earlier.id })
      sends.splice(30, 0, { socket: annSocket, to: ben.user.id, text: 'twice', clientId: repeated })
      sends.splice(40, 0, { socket: annSocket, to: stranger.user.id, text: 'who?' })
      sends.splice(50, 0, { socket: benSocket, to: ben.user.id, text: 'me' })
      const acks = await Promise.all(
        sends.map(({ socket, to, text, clientId, replyToId }) =>
          emit(socket, 'message', {
            clientId: clientId ?? randomUUID(),
            recipientId: to,
            text,
            ...(replyToId !== undefined && { replyToId }),
          }),
        ),
      )
      const errors = acks.flatMap((a) => (a.ok ? [] : [a.error.code]))
      expect(errors).toEqual(['contact_required', 'cannot_contact_self'])
      const [first, again] = [acks[10], acks[30]]
      expect(again).toEqual(first)

      for (const user of [ann, ben, cleo]) {
        const { events } = (
          await http<{ events: FeedEvent[] }>(relay.url, 'GET', '/sync?after=0&limit=1000', {
            token: user.token,
          })
        ).body
        const seqs = events.map((e) => e.seq)
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
        // Each sender's messages in a conversation come in the order they were sent.
        const messages = events.flatMap((e) => (e.type === 'message' ? [e.data] : []))
        for (const text of ['ann→ben', 'ann→cleo', 'ben→ann']) {
          const sent = messages.filter((m) => m.text?.startsWith(`${text} `))
          if (sent.length === 0) continue
          expect(sent.map((m) => m.text)).toEqual(sent.map((_, i) => `${text} ${i}`))
          expect(sent.map((m) => m.id)).toEqual([...sent.map((m) => m.id)].sort((x, y) => x - y))
        }
      }
      const annToBen = (await page(ben, ann, '&limit=200')).messages.filter((m) => m.senderId === ann.user.id)
      expect(annToBen.filter((m) => m.text === 'twice')).toHaveLength(1)
      expect(annToBen.find((m) => m.text === 'a reply')?.replyToId).toBe(earlier.id)
    } finally {
      annSocket.close()
      benSocket.close()
    }
  })
})
