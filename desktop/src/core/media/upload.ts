import type { Result } from '@parley/shared'
import type { LocalDb } from '../db/local-db'
import type { MessageRow } from '../db/schema'
import { setUploadedImage } from '../db/tables/messages'
import type { RelayClient } from '../net/relay-client'
import type { MediaCache } from './media-cache'

/** Told as the upload goes: bytes sent so far of the total. */
export type UploadProgress = (localId: number, sentBytes: number, totalBytes: number) => void

/**
 * Uploads a message's picture from the media cache and records the relay's image on the message;
 * then the original is no longer pinned (evictable like any cached file).
 */
export async function uploadMessageImage(
  deps: { db: LocalDb; relay: RelayClient; media: MediaCache; progress: UploadProgress },
  row: MessageRow,
): Promise<Result<null>> {
  const localId = row.image_id
  const file = localId === null ? null : await deps.media.local(localId, 'full')
  if (localId === null || !file) {
    return {
      ok: false,
      error: { code: 'not_found', message: 'The picture to send is no longer on this device' },
    }
  }
  const total = file.bytes.length
  deps.progress(row.local_id, 0, total)
  // At most one progress event per 5% of the picture, however small the chunks.
  let reported = 0
  const result = await deps.relay.uploadImage(file.bytes, file.mime, (sent) => {
    if (sent < total && sent - reported < total / 20) return
    reported = sent
    if (sent < total) deps.progress(row.local_id, sent, total)
  })
  if (!result.ok) return result
  deps.progress(row.local_id, total, total)
  setUploadedImage(deps.db, row.local_id, result.value.image)
  deps.media.unpin(localId)
  return { ok: true, value: null }
}
