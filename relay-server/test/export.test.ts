import { randomUUID } from 'node:crypto'
import type { Contact, Message, MessageResponse, OwnUser } from '@parley/shared'
import { describe, expect } from 'vitest'
import yauzl from 'yauzl'
import { EXPORT_PAGE } from '../src/services/export'
import { befriend, connect, http, registerUser, sendMessage, type TestUser } from './helpers/client'
import { dialects } from './helpers/dialects'
import { pdfBytes, send, uploaded } from './helpers/files'
import { createGroup, ownerWithContacts, sendToGroup } from './helpers/groups'
import { download, makeImage, upload } from './helpers/images'
import { relayTests } from './helpers/relay'

const withRelay = relayTests()

interface Exported {
  status: number
  headers: Headers
  files: Map<string, Buffer>
  body: Buffer
}

async function exportOf(user: TestUser): Promise<Exported> {
  const response = await fetch(`${user.base}/users/me/export`, {
    headers: { authorization: `Bearer ${user.token}` },
  })
  const body = Buffer.from(await response.arrayBuffer())
  const files = new Map<string, Buffer>()
  if (response.status === 200) {
    const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.fromBuffer(body, { lazyEntries: true }, (error, file) => (error ? reject(error) : resolve(file))),
    )
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, async (error, stream) => {
          if (error) return reject(error)
          const chunks: Buffer[] = []
          for await (const chunk of stream) chunks.push(chunk as Buffer)
          files.set(entry.fileName, Buffer.concat(chunks))
          zip.readEntry()
        })
      })
      zip.on('end', resolve)
      zip.on('error', reject)
      zip.readEntry()
    })
  }
  return { status: response.status, headers: response.headers, files, body }
}

const jsonOf = <T>(exported: Exported, name: string): T => {
  const file = exported.files.get(name)
  if (!file) throw new Error(`no ${name} in the export: ${[...exported.files.keys()].join(', ')}`)
  return JSON.parse(file.toString('utf8')) as T
}

describe.each(dialects)('exporting an account (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('is a zip with the profile, contacts, conversations, receipts, pictures and an escaped index.html', async ({
    relay,
  }) => {
    const alice = await registerUser(relay.url, { firstName: '<img src=x onerror=alert(1)>' })
    const bob = await registerUser(relay.url, { lastName: 'O\'Brien & "Sons"' })
    await befriend(alice, bob)
    const picture = await upload(relay.url, alice.token, await makeImage('png', 70, 50, '#cc8800'))
    const withPicture = await http<MessageResponse>(relay.url, 'POST', '/messages', {
      token: alice.token,
      body: {
        clientId: randomUUID(),
        recipientId: bob.user.id,
        imageId: picture.body.image.id,
        text: 'look',
      },
    })
    const hostile = await sendMessage(alice, bob, '<script>alert("hi")</script> & </div>')
    const reply = await sendMessage(bob, alice, 'line one\nline two')
    const gone = await sendMessage(bob, alice, 'regret')
    await http(relay.url, 'DELETE', `/messages/${gone.message.id}`, { token: bob.token })
    const socket = await connect(relay.url, alice.token)
    await socket.emitWithAck('reaction', { messageId: reply.message.id, emoji: '🎉' })
    await socket.emitWithAck('read', { with: bob.user.id, upTo: reply.message.id })
    socket.close()

    const exported = await exportOf(alice)
    expect(exported.status).toBe(200)
    expect(exported.headers.get('content-type')).toBe('application/zip')
    expect(exported.headers.get('content-disposition')).toMatch(
      new RegExp(`^attachment; filename="parley-export-${alice.user.username}-\\d{4}-\\d\\d-\\d\\d\\.zip"$`),
    )
    expect(exported.headers.get('cache-control')).toBe('no-store')

    expect(jsonOf<{ user: OwnUser }>(exported, 'profile.json').user).toEqual(alice.user)
    const { contacts } = jsonOf<{ contacts: Contact[] }>(exported, 'contacts.json')
    expect(contacts.map((c) => [c.user.id, c.status])).toEqual([[bob.user.id, 'accepted']])
    const conversation = jsonOf<{ peer: { id: number }; messages: (Message & { picture: string | null })[] }>(
      exported,
      `conversations/${bob.user.id}.json`,
    )
    expect(conversation.peer.id).toBe(bob.user.id)
    expect(conversation.messages.map((m) => m.id)).toEqual([
      withPicture.body.message.id,
      hostile.message.id,
      reply.message.id,
      gone.message.id,
    ])
    const [first, , third, fourth] = conversation.messages
    expect(first?.picture).toBe(`pictures/${picture.body.image.id}.png`)
    expect(third?.reactions).toEqual([{ emoji: '🎉', userIds: [alice.user.id] }])
    expect(fourth).toMatchObject({ text: null, deletedAt: expect.any(Number) })
    const { receipts, marks } = jsonOf<{
      receipts: { ownerId: number; readUpTo: number }[]
      marks: { userId: number; kind: string; upTo: number; at: number }[]
    }>(exported, 'receipts.json')
    expect(receipts).toContainEqual(
      expect.objectContaining({ ownerId: alice.user.id, readUpTo: reply.message.id }),
    )
    // When that read marker moved, too.
    expect(marks).toContainEqual(
      expect.objectContaining({
        userId: alice.user.id,
        kind: 'read',
        upTo: reply.message.id,
        at: expect.any(Number),
      }),
    )

    // The picture is the one the relay stores.
    const original = await download(relay.url, alice.token, picture.body.image.id)
    expect(exported.files.get(`pictures/${picture.body.image.id}.png`)?.equals(original.bytes)).toBe(true)

    // The page shows everything, with every name and text escaped, and runs no script.
    const html = exported.files.get('index.html')?.toString('utf8') ?? ''
    expect(html).toContain('&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; &lt;/div&gt;')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(html).toContain('O&#39;Brien &amp; &quot;Sons&quot;')
    expect(html).not.toContain('<script')
    expect(html).not.toContain('<img src=x')
    expect(html).toContain(`<img src="pictures/${picture.body.image.id}.png"`)
    expect(html).toContain('line one\nline two')
    expect(html).toContain('This message was deleted.')
    expect(html).toContain("default-src 'none'")
  })

  it('walks a long conversation page by page, every message in order', async ({ relay }) => {
    const alice = await registerUser(relay.url)
    const bob = await registerUser(relay.url)
    await befriend(alice, bob)
    const count = EXPORT_PAGE * 2 + 3
    const { messages } = relay.app.services
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, j) =>
          messages.send(j % 2 ? alice.user.id : bob.user.id, {
            clientId: randomUUID(),
            recipientId: j % 2 ? bob.user.id : alice.user.id,
            text: `n${i + j}`,
          }),
        ),
      )
    }
    const exported = await exportOf(bob)
    const { messages: listed } = jsonOf<{ messages: Message[] }>(
      exported,
      `conversations/${alice.user.id}.json`,
    )
    expect(listed).toHaveLength(count)
    const ids = listed.map((m) => m.id)
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    const html = exported.files.get('index.html')?.toString('utf8') ?? ''
    expect(html.match(/class="message/g)).toHaveLength(count)
  })

  it('one export at a time per user: another is export_in_progress until the first is done', async ({
    relay,
  }) => {
    const alice = await registerUser(relay.url)
    const bob = await registerUser(relay.url)
    const running = await relay.app.services.exports.start(alice.user.id)
    const refused = await http<{ error: { code: string } }>(relay.url, 'GET', '/users/me/export', {
      token: alice.token,
    })
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('export_in_progress')
    expect((await exportOf(bob)).status).toBe(200)
    running.stream.resume()
    running.done()
    expect((await exportOf(alice)).status).toBe(200)
    // And none without a token.
    expect((await http(relay.url, 'GET', '/users/me/export')).status).toBe(401)
  })

  it('holds each group you are in, with its members, and only the messages since you joined', async ({
    relay,
  }) => {
    const [alice, bob, carol] = await ownerWithContacts(relay.url, 2)
    const title = '<b>Club</b> & "co"'
    const group = await createGroup(alice, [bob!], title)
    const early = await sendToGroup(bob!, group.id, 'before carol joined')
    const added = await http(relay.url, 'POST', `/groups/${group.id}/members`, {
      token: alice.token,
      body: { userIds: [carol!.user.id] },
    })
    expect(added.status).toBe(200)
    const late = await sendToGroup(alice, group.id, 'after carol joined <i>hi</i>')
    const own = await sendToGroup(carol!, group.id, 'carol here')
    // A group she is not in is not hers to export.
    const other = await createGroup(alice, [bob!], 'Not for carol')
    await sendToGroup(alice, other.id, 'carol never sees this')

    type GroupFile = {
      group: { id: number; title: string; role: string }
      joinedAt: number
      members: { userId: number; role: string; user: { firstName: string; username: string } | null }[]
      messages: Message[]
    }
    const exported = await exportOf(carol!)
    expect([...exported.files.keys()].filter((name) => name.startsWith('groups/'))).toEqual([
      `groups/${group.id}.json`,
    ])
    const file = jsonOf<GroupFile>(exported, `groups/${group.id}.json`)
    expect(file.group).toMatchObject({ id: group.id, title, role: 'member' })
    // Members who joined together are listed in no particular order.
    const members = new Map(file.members.map((m) => [m.userId, [m.role, m.user?.username]]))
    expect(members).toEqual(
      new Map([
        [alice.user.id, ['owner', alice.user.username]],
        [bob!.user.id, ['member', bob!.user.username]],
        [carol!.user.id, ['member', carol!.user.username]],
      ]),
    )
    expect(file.messages.map((m) => m.id)).toEqual([late.message.id, own.message.id])
    const html = exported.files.get('index.html')?.toString('utf8') ?? ''
    expect(html).toContain('&lt;b&gt;Club&lt;/b&gt; &amp; &quot;co&quot;')
    expect(html).not.toContain('<b>Club')
    expect(html).toContain('after carol joined &lt;i&gt;hi&lt;/i&gt;')
    expect(html).toContain(bob!.user.firstName)
    for (const unseen of ['before carol joined', 'carol never sees this', 'Not for carol']) {
      expect(exported.body.includes(unseen)).toBe(false)
      for (const content of exported.files.values()) expect(content.toString('utf8')).not.toContain(unseen)
    }

    // Bob, there from the start, has all of it.
    const bobs = jsonOf<GroupFile>(await exportOf(bob!), `groups/${group.id}.json`)
    expect(bobs.messages.map((m) => m.id)).toEqual([early.message.id, late.message.id, own.message.id])
  })
  it('holds the files you uploaded, and names the ones others sent without their bytes', async ({
    relay,
  }) => {
    const [ann, ben] = [await registerUser(relay.url), await registerUser(relay.url)]
    await befriend(ann, ben)
    const mine = pdfBytes(1500)
    const own = await uploaded(ann, mine, 'minutes.pdf')
    const theirs = await uploaded(ben, pdfBytes(1600), 'their.pdf')
    const sent = await send(ann, { recipientId: ben.user.id, fileId: own.id })
    const received = await send(ben, { recipientId: ann.user.id, fileId: theirs.id })

    const exported = await exportOf(ann)
    expect(exported.status).toBe(200)
    expect(jsonOf<{ files: unknown[] }>(exported, 'files.json').files).toEqual([
      { ...own, uploadedAt: expect.any(Number), path: `files/${own.id}/minutes.pdf` },
    ])
    expect(exported.files.get(`files/${own.id}/minutes.pdf`)?.equals(mine)).toBe(true)
    expect([...exported.files.keys()].some((name) => name.includes(theirs.id))).toBe(false)
    const conversation = jsonOf<{ messages: (Message & { attachment: string | null })[] }>(
      exported,
      `conversations/${ben.user.id}.json`,
    )
    expect(conversation.messages.map((m) => [m.id, m.file?.id, m.attachment])).toEqual([
      [sent.body.message.id, own.id, `files/${own.id}/minutes.pdf`],
      [received.body.message.id, theirs.id, null],
    ])
  })
})
