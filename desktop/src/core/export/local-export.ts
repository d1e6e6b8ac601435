import type { ConversationKey } from '@parley/shared'
import { conversationId, conversationKeyOf } from '../db/conversation-id'
import type { LocalDb } from '../db/local-db'
import { zip } from './zip'

interface Person {
  id: number
  username: string
  firstName: string
  lastName: string
}

interface ExportedMessage {
  id: number | null
  from: number
  to: number
  text: string | null
  createdAt: number
  editedAt: number | null
  deletedAt: number | null
  reactions: { emoji: string; userIds: number[] }[]
  image: { id: string; mime: string | null; width: number | null; height: number | null } | null
  /** Written here and not (yet) on the relay. */
  unsent: boolean
}

export interface LocalExport {
  format: 'parley-local-export'
  version: 1
  exportedAt: string
  account: Person & { relayUrl: string }
  /** `peer`: the other person of a 1:1 conversation, or (a group) its key as a stand-in. */
  conversations: { key: ConversationKey; peer: Person; messages: ExportedMessage[] }[]
}

interface MessageRow {
  server_id: number | null
  sender_id: number
  recipient_id: number
  text: string | null
  created_at: number
  edited_at: number | null
  deleted_at: number | null
  reactions: string
  image_id: string | null
  image_mime: string | null
  image_width: number | null
  image_height: number | null
  image_local: number
  send_state: string
}

/** One conversation or all of them, as this device's store has them, oldest first. */
export function collectLocalExport(
  db: LocalDb,
  conversation: ConversationKey | undefined,
  now: number,
): LocalExport {
  const account = db.prepare('select * from account where id = 1').get() as {
    user_id: number
    username: string
    first_name: string
    last_name: string
    relay_url: string
  }
  const people = new Map<number, Person>()
  for (const row of db.prepare('select id, username, first_name, last_name from users').all() as {
    id: number
    username: string
    first_name: string
    last_name: string
  }[]) {
    people.set(row.id, {
      id: row.id,
      username: row.username,
      firstName: row.first_name,
      lastName: row.last_name,
    })
  }
  const ids = (
    conversation === undefined
      ? db
          .prepare('select distinct conversation_id from messages order by conversation_id desc')
          .pluck()
          .all()
      : [conversationId(conversation)]
  ) as number[]
  const messages = db.prepare(
    `select server_id, sender_id, recipient_id, text, created_at, edited_at, deleted_at, reactions,
            image_id, image_mime, image_width, image_height, image_local, send_state
       from messages where conversation_id = ? order by sort_key`,
  )
  return {
    format: 'parley-local-export',
    version: 1,
    exportedAt: new Date(now).toISOString(),
    account: {
      id: account.user_id,
      username: account.username,
      firstName: account.first_name,
      lastName: account.last_name,
      relayUrl: account.relay_url,
    },
    conversations: ids.map((id) => ({
      key: conversationKeyOf(id),
      peer:
        people.get(id) ??
        (id > 0
          ? { id, username: `user-${id}`, firstName: '', lastName: '' }
          : { id: -id, username: `group-${-id}`, firstName: `Group ${-id}`, lastName: '' }),
      messages: (messages.all(id) as MessageRow[]).map((m) => ({
        id: m.server_id,
        from: m.sender_id,
        to: m.recipient_id,
        text: m.deleted_at === null ? m.text : null,
        createdAt: m.created_at,
        editedAt: m.edited_at,
        deletedAt: m.deleted_at,
        reactions: JSON.parse(m.reactions) as ExportedMessage['reactions'],
        image:
          m.image_id && !m.image_local
            ? { id: m.image_id, mime: m.image_mime, width: m.image_width, height: m.image_height }
            : null,
        unsent: m.server_id === null,
      })),
    })),
  }
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  )

const fullName = (p: Person) => `${p.firstName} ${p.lastName}`.trim() || p.username

/** A page that reads without Parley: one section per conversation, every message with its time. */
export function renderLocalExport(data: LocalExport): string {
  const me: Person = data.account
  const nameOf = (id: number, peer: Person) => (id === me.id ? fullName(me) : fullName(peer))
  const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16)
  const sections = data.conversations.map(({ peer, messages }) => {
    const items = messages.map((m) => {
      const body =
        m.deletedAt !== null
          ? '<em class="note">This message was deleted.</em>'
          : `${m.text ? `<p>${escapeHtml(m.text).replace(/\n/g, '<br>')}</p>` : ''}${
              m.image ? `<p class="note">[a picture: ${escapeHtml(m.image.id)}]</p>` : ''
            }`
      const notes = [
        m.editedAt !== null ? 'edited' : '',
        m.unsent ? 'not sent' : '',
        m.reactions.map((r) => `${escapeHtml(r.emoji)} ${r.userIds.length}`).join(' '),
      ].filter(Boolean)
      return `<li class="${m.from === me.id ? 'mine' : 'theirs'}"><div class="meta"><strong>${escapeHtml(
        nameOf(m.from, peer),
      )}</strong> <time datetime="${new Date(m.createdAt).toISOString()}">${when(m.createdAt)}</time>${
        notes.length ? ` <span class="note">${notes.join(' · ')}</span>` : ''
      }</div>${body}</li>`
    })
    return `<section><h2>${escapeHtml(fullName(peer))} <span class="note">@${escapeHtml(peer.username)}</span></h2>
<p class="note">${messages.length} message${messages.length === 1 ? '' : 's'}</p>
<ol>${items.join('\n')}</ol></section>`
  })
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Parley conversations of @${escapeHtml(me.username)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:760px;margin:2em auto;padding:0 1em;color:#1d2330;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e6e9ef;background:#15181e}li.mine{background:#1f2a3d!important}li.theirs{background:#22262e!important}}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #8884;padding-bottom:.3em}
ol{list-style:none;padding:0}li{margin:.5em 0;padding:.5em .75em;border-radius:10px}
li.mine{background:#e3ecff;margin-left:3em}li.theirs{background:#f1f2f5;margin-right:3em}
li p{margin:.2em 0;white-space:pre-wrap;overflow-wrap:anywhere}.meta{font-size:.85em}.note{color:#889;font-size:.85em}
</style></head><body>
<h1>Conversations of ${escapeHtml(fullName(me))} <span class="note">@${escapeHtml(me.username)} on ${escapeHtml(
    data.account.relayUrl,
  )}</span></h1>
<p class="note">Exported from this device's Parley on ${escapeHtml(data.exportedAt)} (times in UTC). The same data is in conversations.json.</p>
${sections.join('\n')}
</body></html>
`
}

/** The zip the user saves: conversations.html (to read) and conversations.json (to process). */
export function localExportZip(data: LocalExport): Buffer {
  return zip([
    { name: 'conversations.html', data: renderLocalExport(data) },
    { name: 'conversations.json', data: `${JSON.stringify(data, null, 2)}\n` },
  ])
}
