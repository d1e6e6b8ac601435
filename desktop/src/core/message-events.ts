import type { MessageView } from '@parley/shared'
import type { Account } from './account'
import type { MessageRow } from './db/schema'
import { messageRow } from './db/tables/messages'
import { messageView, messageViews } from './db/views/messages'
import type { Emit } from './options'
import { refuse } from './refusal'

// How a change to messages reaches the windows (`messages.changed`), from a handler, the outbox or the feed.

/** The current views of these messages; ids no longer stored are told as removed. */
export function emitMessages(
  emit: Emit,
  account: Account,
  peerId: number,
  localIds: number[],
  removedLocalIds: number[] = [],
): void {
  const rows = localIds.flatMap((id) => {
    const row = messageRow(account.db, id)
    return row ? [row] : []
  })
  const gone = [...removedLocalIds, ...localIds.filter((id) => !rows.some((r) => r.local_id === id))]
  emit('messages.changed', {
    peerId,
    messages: messageViews(account.db, account.me, rows),
    removedLocalIds: gone,
    reload: false,
  })
}

/** A message's view, or a `not_found` refusal. */
export function viewOf(account: Account, localId: number): MessageView {
  return (
    messageView(account.db, account.me, localId) ??
    refuse('not_found', `No message ${localId} on this device`)
  )
}

/** A message changed here (something was queued): the outbox runs, and the windows get its new view. */
export function changed(emit: Emit, account: Account, row: MessageRow): MessageView {
  account.kickOutbox()
  const view = viewOf(account, row.local_id)
  emit('messages.changed', { peerId: row.peer_id, messages: [view], removedLocalIds: [], reload: false })
  return view
}

/** A message that never left this device is gone: its pinned picture goes, and the UI drops it. */
export function removedLocally(emit: Emit, account: Account, row: MessageRow): null {
  if (row.image_local === 1 && row.image_id !== null) account.releaseLocalImage(row.image_id)
  emit('messages.changed', {
    peerId: row.peer_id,
    messages: [],
    removedLocalIds: [row.local_id],
    reload: false,
  })
  return null
}
