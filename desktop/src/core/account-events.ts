import { dmKey, groupKey } from '@parley/shared'
import type { Account } from './account'
import type { ApplySummary } from './db/apply'
import { accountRow } from './db/tables/account'
import { conversationRows } from './db/tables/conversations'
import { lastReceivedRow } from './db/tables/messages'
import { contactViews, userView } from './db/views/contacts'
import { conversationTitle } from './db/views/conversations'
import { groupView } from './db/views/groups'
import { messageViews } from './db/views/messages'
import { profileOf } from './db/views/profile'
import type { Core } from './handlers/context'

/**
 * Wires a newly signed-in account's events to the bridge's: what the feed applied, presence,
 * typing, the outbox's progress and uploads.
 */
export function wireAccount(core: Core, account: Account): void {
  const { emit } = core
  account.on('uploadProgress', (localId, sentBytes, totalBytes) =>
    emit('media.uploadProgress', { localId, sentBytes, totalBytes }),
  )
  account.on('downloadProgress', (fileId, receivedBytes, totalBytes) =>
    emit('files.downloadProgress', { fileId, receivedBytes, totalBytes }),
  )
  account.on('state', (info) => emit('connection.changed', info))
  account.on('applied', (summary) => applied(core, account, summary))
  account.on('presence', (ids) => {
    const contacts = contactViews(account.db)
    for (const userId of ids) {
      const contact = contacts.find((c) => c.user.id === userId)
      emit('presence.changed', { userId, presence: contact?.presence ?? null })
    }
  })
  account.on('typing', (event) =>
    core.typing.received(
      event.groupId === undefined ? dmKey(event.from) : groupKey(event.groupId),
      event.from,
      event.typing,
    ),
  )
  account.on('groupReceipts', (conversation) => core.changes.receipts(account, [conversation]))
  account.on('outbox', (conversation, localId) => core.changes.messages(account, conversation, [localId]))
  account.setPresence(core.presence.wanted)
  core.unread.reset()
  core.changes.reset()
}

/** A batch of feed events was applied: tell the windows what changed. */
function applied(core: Core, account: Account, summary: ApplySummary): void {
  const { emit } = core
  core.changes.applied(account, summary.messages, summary.receipts)
  if (summary.contactsChanged) {
    emit('contacts.changed', { contacts: contactViews(account.db) })
    // A profile shows in the rows too (a peer who is no contact has only the row's copy).
    core.changes.conversations(
      account,
      conversationRows(account.db).map((c) => c.key),
    )
  }
  for (const groupId of summary.groups) {
    emitGroup(core, account, groupId)
    // Members who are not contacts: their names and pictures come from the relay, once.
    const unknown = account.groups.unknownMembers(groupId)
    if (unknown.length > 0)
      void account.fetchProfiles(unknown).then((n) => {
        if (n === 0 || core.session.account !== account) return
        emitGroup(core, account, groupId)
        core.changes.applied(account, new Map([[groupKey(groupId), null]]), new Set())
      })
  }
  if (summary.profileChanged) {
    const row = accountRow(account.db)
    if (row) emit('profile.changed', { user: profileOf(row) })
  }
  if (summary.messages.size > 0 || summary.receipts.size > 0) {
    core.unread.changed(account, [...summary.messages.keys(), ...summary.receipts])
  }
  for (const [conversation, count] of summary.arrived) {
    const row = lastReceivedRow(account.db, account.me, conversation)
    const message = row && messageViews(account.db, account.me, [row])[0]
    if (message && message.state !== 'read') {
      emit('messages.received', {
        conversation,
        count,
        message,
        sender: userView(account.db, message.senderId),
        title: conversationTitle(account.db, conversation),
        mentionsMe: message.mentionsMe,
      })
    }
  }
}

/** A group changed: its view, and its row in the chat list. */
export function emitGroup(core: Core, account: Account, groupId: number): void {
  const group = groupView(account.db, account.me, groupId)
  if (!group) return
  core.emit('groups.changed', { conversation: group.key, group })
  core.changes.conversations(account, [group.key])
}
