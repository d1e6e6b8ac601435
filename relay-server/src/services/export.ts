import { Readable } from 'node:stream'
import type { GroupMember, ImageInfo, Message, PublicUser } from '@parley/shared'
import type { Kysely } from 'kysely'
import { ZipFile } from 'yazl'
import type { Database, GroupRoleName, GroupRow, ImageRow } from '../db/schema'
import { AppError } from '../errors'
import type { BlobStore } from '../images/blob-store'
import { listContacts, toContact } from '../repositories/contacts'
import { groupsOf, membersOf, toGroup } from '../repositories/groups'
import { uploadedImageIds } from '../repositories/images'
import {
  conversationAfter,
  conversationImageIds,
  conversationPeers,
  groupAfter,
  groupSendersAndPictures,
} from '../repositories/messages'
import { markersInvolving, marksInvolving } from '../repositories/receipts'
import { findUserById, findUsersByIds, toOwnUser, toPublicUser } from '../repositories/users'
import { attachmentPath, type ExportedFiles, exportedFiles, fileBytes, filesJson } from './export-files'
import { blobKey } from './images'

/** Messages read per query while an export walks a conversation. */
export const EXPORT_PAGE = 500

const EXTENSIONS: Record<ImageInfo['mime'], string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
}

/** Where a picture sits in the zip. */
const picturePath = (image: Pick<ImageInfo, 'id' | 'mime'>) =>
  `pictures/${image.id}.${EXTENSIONS[image.mime]}`

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Text made safe for HTML content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
}

/** A group the user is in, and the log entry from which they see it. */
interface ExportedGroup {
  row: GroupRow & { role: GroupRoleName }
  sinceSeq: number
  members: GroupMember[]
  imageIds: string[]
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16)

export interface ExportDeps {
  db: Kysely<Database>
  store: BlobStore
  /** Where file bytes live. */
  fileStore: BlobStore
  clock?: () => number
}

/**
 * A user's data as a zip, written as it is read: the zip's entries are produced one after another
 * (yazl pumps them in order, with back-pressure from the response), and each conversation is read
 * EXPORT_PAGE messages at a time, so a large account never sits in memory whole.
 *
 *   profile.json        the account (email included)
 *   contacts.json       contacts and requests, with their states
 *   receipts.json       delivered/read markers, yours and your peers' on your conversations, and when they moved
 *   conversations/<peer id>.json   {peer, messages}, oldest first, with reactions and picture paths
 *   groups/<group id>.json   {group, joinedAt, members, messages}: the groups you are in, with the
 *                       members' names and the messages sent since you joined (never older ones)
 *   pictures/<id>.<ext> the pictures you uploaded and those in your conversations
 *   files.json, files/<id>/<name>   the files you uploaded (see export-files.ts)
 *   index.html          all of it as one readable page (no scripts; pictures from pictures/)
 */
export class ExportService {
  readonly #deps: ExportDeps
  readonly #clock: () => number
  /** Users whose export is being written: one at a time each. */
  readonly #running = new Set<number>()

  constructor(deps: ExportDeps) {
    this.#deps = deps
    this.#clock = deps.clock ?? Date.now
  }

  /**
   * Starts the export; `stream` is the zip. Refused with export_in_progress while another export of
   * the same user is still being written; `done` must be called when the stream is finished with.
   */
  async start(userId: number): Promise<{ stream: Readable; filename: string; done: () => void }> {
    if (this.#running.has(userId)) {
      throw new AppError('export_in_progress', 'An export of your account is still being written', {
        retryAfterSeconds: 5,
      })
    }
    this.#running.add(userId)
    let finished = false
    const done = () => {
      if (finished) return
      finished = true
      this.#running.delete(userId)
    }
    try {
      const { stream, username } = await this.#build(userId)
      const date = new Date(this.#clock()).toISOString().slice(0, 10)
      return { stream, filename: `parley-export-${username}-${date}.zip`, done }
    } catch (error) {
      done()
      throw error
    }
  }

  async #build(userId: number): Promise<{ stream: Readable; username: string }> {
    const { db, store, fileStore } = this.#deps
    const user = await findUserById(db, userId)
    if (!user) throw new AppError('unauthorized', 'The account no longer exists')
    const contacts = (await listContacts(db, userId)).map((row) => toContact(row, row.peer))
    const peerIds = await conversationPeers(db, userId)
    const peers = new Map<number, PublicUser>()
    const missing = new Set<number>()
    for (let i = 0; i < peerIds.length; i += 500) {
      for (const row of await findUsersByIds(db, peerIds.slice(i, i + 500)))
        peers.set(row.id, toPublicUser(row))
    }
    const memberships = await groupsOf(db, userId)
    const exported: ExportedGroup[] = []
    for (const row of memberships) {
      const sinceSeq = Number(row.joined_seq)
      const members = await membersOf(db, row.id)
      const seen = await groupSendersAndPictures(db, row.id, sinceSeq)
      const people = new Set([...members.map((m) => m.userId), ...seen.senderIds])
      for (const id of people) {
        if (!peers.has(id)) missing.add(id)
      }
      exported.push({ row, sinceSeq, members, imageIds: seen.imageIds })
    }
    const unknown = [...missing]
    for (let i = 0; i < unknown.length; i += 500) {
      for (const row of await findUsersByIds(db, unknown.slice(i, i + 500)))
        peers.set(row.id, toPublicUser(row))
    }
    const imageIds = new Set([
      ...(await uploadedImageIds(db, userId)),
      ...(await conversationImageIds(db, userId)),
    ])
    for (const g of exported) {
      for (const id of g.imageIds) imageIds.add(id)
    }
    if (user.avatar_image_id) imageIds.add(user.avatar_image_id)
    const images: ImageRow[] = []
    const ids = [...imageIds]
    for (let i = 0; i < ids.length; i += 500) {
      images.push(
        ...(await db
          .selectFrom('images')
          .selectAll()
          .where('id', 'in', ids.slice(i, i + 500))
          .execute()),
      )
    }
    const files = await exportedFiles(db, userId)
    const own = toOwnUser(user)
    const zip = new ZipFile()
    const mtime = new Date(this.#clock())
    const options = { mtime, mode: 0o100600 }
    const entry = (name: string, produce: () => AsyncIterable<string | Buffer>, compress = true) => {
      const source = Readable.from(produce())
      // A failure half-way (the database went away) ends the download instead of a truncated zip.
      source.once('error', (error) => (zip.outputStream as Readable).destroy(error))
      zip.addReadStream(source, name, { ...options, compress })
    }
    const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

    entry('profile.json', async function* () {
      yield json({ user: own, exportedAt: mtime.getTime() })
    })
    entry('contacts.json', async function* () {
      yield json({ contacts })
    })
    entry('receipts.json', async function* () {
      yield json({ receipts: await markersInvolving(db, userId), marks: await marksInvolving(db, userId) })
    })
    entry('files.json', async function* () {
      yield json(filesJson(files))
    })
    const pages = (peerId: number) =>
      walk((after) => conversationAfter(db, userId, peerId, after, EXPORT_PAGE))
    for (const peerId of peerIds) {
      entry(`conversations/${peerId}.json`, () =>
        messagesFile(`"peer": ${JSON.stringify(peers.get(peerId) ?? null)}`, pages(peerId), files),
      )
    }
    const groupPages = (g: ExportedGroup) =>
      walk((after) => groupAfter(db, g.row.id, { userId, sinceSeq: g.sinceSeq }, after, EXPORT_PAGE))
    for (const g of exported) {
      const members = g.members.map((m) => ({ ...m, user: peers.get(m.userId) ?? null }))
      const group = toGroup(g.row, g.row.role)
      const joinedAt = g.members.find((m) => m.userId === userId)?.joinedAt ?? null
      const head = `"group": ${JSON.stringify(group)},\n"joinedAt": ${JSON.stringify(joinedAt)},\n"members": ${JSON.stringify(members)}`
      entry(`groups/${g.row.id}.json`, () => messagesFile(head, groupPages(g), files))
    }
    entry('index.html', () =>
      renderIndex({
        own,
        contacts,
        peers,
        peerIds,
        pages,
        groups: exported,
        groupPages,
        exportedAt: mtime.getTime(),
      }),
    )
    for (const image of images) {
      // Opened only when its turn comes: thousands of pictures never hold thousands of files open.
      entry(
        picturePath(image),
        async function* () {
          const blob = await store.get(blobKey(image.id, 'original'))
          if (blob) yield* blob.stream as AsyncIterable<Buffer>
        },
        false,
      )
    }
    for (const row of files.rows) entry(files.pathOf(row.id)!, () => fileBytes(fileStore, row), false)
    zip.end()
    return { stream: zip.outputStream as Readable, username: user.username }
  }
}

/** A conversation or group, EXPORT_PAGE messages at a time, oldest first. */
async function* walk(pageAfter: (afterId: number) => Promise<Message[]>): AsyncGenerator<Message[]> {
  let after = 0
  for (;;) {
    const page = await pageAfter(after)
    if (page.length > 0) yield page
    if (page.length < EXPORT_PAGE) return
    after = page[page.length - 1]!.id
  }
}

/** A JSON object of the fields in `head` and then `messages`, written page by page. */
async function* messagesFile(
  head: string,
  pages: AsyncGenerator<Message[]>,
  files: ExportedFiles,
): AsyncGenerator<string> {
  yield `{\n${head},\n"messages": [`
  let first = true
  for await (const page of pages) {
    for (const message of page) {
      const paths = { ...withPicturePath(message), attachment: attachmentPath(message, files) }
      yield `${first ? '\n' : ',\n'}${JSON.stringify(paths)}`
      first = false
    }
  }
  yield '\n]\n}\n'
}

function withPicturePath(message: Message): Message & { picture: string | null } {
  return { ...message, picture: message.image ? picturePath(message.image) : null }
}

const STYLE = `
:root { color-scheme: light dark }
body { font: 15px/1.45 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d2430; }
h1, h2 { line-height: 1.2 } h2 { margin-top: 2.5rem; border-bottom: 1px solid #d5dae1; padding-bottom: .3rem }
table { border-collapse: collapse } td, th { text-align: left; padding: .2rem 1rem .2rem 0 }
.message { margin: .5rem 0; padding: .45rem .7rem; border-radius: .6rem; background: #eef1f5; max-width: 85% }
.message.mine { margin-left: auto; background: #dbe9ff }
.meta { font-size: 12px; color: #5b6573 } .text { white-space: pre-wrap; overflow-wrap: anywhere }
.deleted { font-style: italic; color: #5b6573 } img { max-width: 100%; max-height: 20rem; border-radius: .4rem }
@media (prefers-color-scheme: dark) {
  body { background: #14181f; color: #e3e7ee } .message { background: #222a35 } .message.mine { background: #1f3656 }
  .meta, .deleted { color: #9aa5b4 } h2 { border-color: #333c49 } a { color: #8ab8ff }
}`

const fullName = (u: Pick<PublicUser, 'firstName' | 'lastName'>) => `${u.firstName} ${u.lastName}`.trim()

async function* renderIndex(input: {
  own: PublicUser
  contacts: { user: PublicUser; status: string; acceptedAt: number | null }[]
  peers: Map<number, PublicUser>
  peerIds: number[]
  pages: (peerId: number) => AsyncGenerator<Message[]>
  groups: ExportedGroup[]
  groupPages: (group: ExportedGroup) => AsyncGenerator<Message[]>
  exportedAt: number
}): AsyncGenerator<string> {
  const { own, contacts, peers, peerIds, pages } = input
  const nameOf = (id: number) => {
    const user = id === own.id ? own : peers.get(id)
    return user ? fullName(user) : `user ${id}`
  }
  const e = escapeHtml
  yield `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley export: ${e(own.username)}</title><style>${STYLE}</style></head><body>
<h1>${e(fullName(own))} (${e(own.username)})</h1>
<p class="meta">Exported ${e(when(input.exportedAt))}; all times are UTC. The same data is in the JSON files beside this page.</p>
<h2>Contacts</h2>
`
  if (contacts.length === 0) yield '<p>No contacts.</p>\n'
  else {
    yield '<table><tr><th>Name</th><th>Username</th><th>State</th></tr>\n'
    for (const c of contacts) {
      yield `<tr><td>${e(fullName(c.user))}</td><td>${e(c.user.username)}</td><td>${e(c.status)}</td></tr>\n`
    }
    yield '</table>\n'
  }
  yield '<h2>Conversations</h2>\n<ul>\n'
  for (const id of peerIds) {
    const peer = peers.get(id)
    yield `<li><a href="#with-${id}">${e(peer ? `${fullName(peer)} (${peer.username})` : `user ${id}`)}</a></li>\n`
  }
  yield '</ul>\n'
  for (const id of peerIds) {
    const peer = peers.get(id)
    const names = new Map([
      [own.id, fullName(own)],
      [id, peer ? fullName(peer) : `user ${id}`],
    ])
    yield `<h2 id="with-${id}">${e(names.get(id)!)}</h2>\n`
    for await (const page of pages(id)) yield renderMessages(page, own.id, (sender) => names.get(sender))
  }
  yield '<h2>Groups</h2>\n'
  if (input.groups.length === 0) yield '<p>No groups.</p>\n'
  else {
    yield '<ul>\n'
    for (const g of input.groups) yield `<li><a href="#group-${g.row.id}">${e(g.row.title)}</a></li>\n`
    yield '</ul>\n'
  }
  for (const g of input.groups) {
    yield `<h2 id="group-${g.row.id}">${e(g.row.title)}</h2>\n`
    const members = g.members.map((m) => `${e(nameOf(m.userId))}${m.role === 'member' ? '' : ` (${m.role})`}`)
    yield `<p class="meta">Members: ${members.join(', ')}. Messages since you joined.</p>\n`
    for await (const page of input.groupPages(g)) yield renderMessages(page, own.id, nameOf)
  }
  yield '</body></html>\n'
}

/** A page of messages as HTML, every piece of user text escaped. */
function renderMessages(page: Message[], ownId: number, nameOf: (id: number) => string | undefined): string {
  const e = escapeHtml
  let chunk = ''
  for (const m of page) {
    const mine = m.senderId === ownId
    const meta = `${e(nameOf(m.senderId) ?? String(m.senderId))} · ${e(when(m.createdAt))}${m.editedAt ? ' · edited' : ''}`
    let body: string
    if (m.deletedAt !== null) body = '<div class="deleted">This message was deleted.</div>'
    else {
      body = m.forwarded ? '<div class="meta">Forwarded</div>' : ''
      if (m.file) body += `<div class="meta">File: ${e(m.file.name)} (${m.file.size} bytes)</div>`
      if (m.voice) body += `<div class="meta">Voice message, ${Math.ceil(m.voice.durationMs / 1000)} s</div>`
      if (m.image) body += `<img src="${e(picturePath(m.image))}" alt="picture">`
      if (m.text) body += `<div class="text">${e(m.text)}</div>`
      if (m.reactions.length > 0) {
        body += `<div class="meta">${m.reactions.map((r) => `${e(r.emoji)} ${r.userIds.length}`).join(' ')}</div>`
      }
    }
    chunk += `<div class="message${mine ? ' mine' : ''}"><div class="meta">${meta}</div>${body}</div>\n`
  }
  return chunk
}
