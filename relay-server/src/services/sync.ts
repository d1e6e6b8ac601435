import {
  DEFAULT_SNAPSHOT_PAGE,
  DEFAULT_SYNC_PAGE,
  type SnapshotConversation,
  type SnapshotGroup,
  type SnapshotQuery,
  type SyncQuery,
  type SyncResponse,
  type SyncSnapshot,
} from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { listContacts, toContact } from '../repositories/contacts'
import { readFeed } from '../repositories/feed'
import { toGroup } from '../repositories/groups'
import {
  conversationMarkers,
  conversationPages,
  conversationPeerIds,
  groupPages,
  membersAndEveryone,
  membershipsWithMarkers,
} from '../repositories/snapshot'
import { findUserById, findUsersByIds, toOwnUser, toPublicUser } from '../repositories/users'

/** One page of the caller's feed after their cursor; the same for GET /sync and the socket `sync`. */
export async function syncPage(
  db: Kysely<Database>,
  userId: number,
  query: SyncQuery,
): Promise<SyncResponse> {
  return readFeed(db, userId, query.after, query.limit ?? DEFAULT_SYNC_PAGE)
}

/**
 * Everything a new device needs, read in one transaction (REPEATABLE READ on PostgreSQL; on SQLite
 * a read transaction on the relay's read-only connection, which writes do not wait for), so the feed cursor it gives matches what it shows:
 * every change after `cursor` is in the feed, every change up to it is in the snapshot.
 */
export async function readSnapshot(
  db: Kysely<Database>,
  userId: number,
  query: SnapshotQuery,
): Promise<SyncSnapshot> {
  const limit = query.limit ?? DEFAULT_SNAPSHOT_PAGE
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const me = await findUserById(trx, userId)
      if (!me) throw new Error(`snapshot of unknown user ${userId}`)
      const contactRows = await listContacts(trx, userId)

      const peers = await conversationPeerIds(trx, userId)
      const pages = await conversationPages(trx, userId, peers, limit)
      const markers = await conversationMarkers(trx, userId)

      const memberships = await membershipsWithMarkers(trx, userId)
      const groupIds = memberships.map((m) => m.group.id)
      const { members, everyone } = await membersAndEveryone(trx, groupIds)
      const groupPageList = await groupPages(
        trx,
        userId,
        memberships.map((m) => ({ groupId: m.group.id, sinceSeq: m.joinedSeq })),
        limit,
      )

      const empty = { messages: [], hasMore: false }
      const none = { deliveredUpTo: 0, readUpTo: 0 }
      const conversations: SnapshotConversation[] = peers
        .map((peerId) => ({
          peerId,
          ...(pages.get(peerId) ?? empty),
          ...(markers.get(peerId) ?? { own: none, peer: none }),
        }))
        // Nothing visible left (all withheld from you, or hidden): not a conversation for you.
        .filter((c) => c.messages.length > 0)
        .sort((a, b) => b.messages[0]!.id - a.messages[0]!.id)
      const groups: SnapshotGroup[] = memberships.map((m) => ({
        group: toGroup(m.group, m.role, members.get(m.group.id) ?? []),
        ...(groupPageList.get(m.group.id) ?? empty),
        own: m.own,
        everyone: everyone.get(m.group.id) ?? none,
      }))

      const known = new Set([userId, ...contactRows.map((c) => c.peer_id)])
      const named = [
        ...conversations.map((c) => c.peerId),
        ...groups.flatMap((g) => (g.group.members ?? []).map((member) => member.userId)),
      ].filter((id) => !known.has(id))
      const users = await findUsersByIds(trx, [...new Set(named)])

      return {
        cursor: Number(me.feed_seq),
        floor: Number(me.feed_floor),
        user: toOwnUser(me),
        contacts: contactRows.map((r) => toContact(r, r.peer)),
        users: users.map(toPublicUser),
        conversations,
        groups,
      }
    })
}
