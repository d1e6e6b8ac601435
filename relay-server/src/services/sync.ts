import { DEFAULT_SYNC_PAGE, type SyncQuery, type SyncResponse } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { readFeed } from '../repositories/feed'

/** One page of the caller's feed after their cursor; the same for GET /sync and the socket `sync`. */
export async function syncPage(
  db: Kysely<Database>,
  userId: number,
  query: SyncQuery,
): Promise<SyncResponse> {
  return readFeed(db, userId, query.after, query.limit ?? DEFAULT_SYNC_PAGE)
}
