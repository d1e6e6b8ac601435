import { randomUUID } from 'node:crypto'
import type {
  FeedEvent,
  Group,
  GroupEvent,
  GroupEventsResponse,
  GroupInvite,
  GroupResponse,
  MessageResponse,
  SyncResponse,
} from '@parley/shared'
import { befriend, http, registerUser, type TestUser } from './client'

/** An owner and `count` contacts of theirs (accepted both ways), not yet in any group. */
export async function ownerWithContacts(base: string, count: number): Promise<[TestUser, ...TestUser[]]> {
  const owner = await registerUser(base)
  const others = await Promise.all(Array.from({ length: count }, () => registerUser(base)))
  for (const other of others) await befriend(owner, other)
  return [owner, ...others]
}

export async function createGroup(owner: TestUser, members: TestUser[], title = 'Book club'): Promise<Group> {
  const result = await http<GroupResponse>(owner.base, 'POST', '/groups', {
    token: owner.token,
    body: { title, memberIds: members.map((m) => m.user.id) },
  })
  if (result.status !== 201)
    throw new Error(`create group failed: ${result.status} ${JSON.stringify(result.body)}`)
  return result.body.group
}

export async function sendToGroup(
  from: TestUser,
  groupId: number,
  text = 'hello all',
): Promise<MessageResponse> {
  const result = await http<MessageResponse>(from.base, 'POST', '/messages', {
    token: from.token,
    body: { clientId: randomUUID(), groupId, text },
  })
  if (result.status !== 201)
    throw new Error(`group send failed: ${result.status} ${JSON.stringify(result.body)}`)
  return result.body
}

export async function groupLog(user: TestUser, groupId: number, after = 0, limit = 1000) {
  return http<GroupEventsResponse>(
    user.base,
    'GET',
    `/groups/${groupId}/events?after=${after}&limit=${limit}`,
    {
      token: user.token,
    },
  )
}

export async function feedOf(user: TestUser): Promise<FeedEvent[]> {
  const result = await http<SyncResponse>(user.base, 'GET', '/sync?after=0&limit=1000', { token: user.token })
  return result.body.events
}

export async function makeInvite(
  admin: TestUser,
  groupId: number,
  body: { maxUses?: number; expiresAt?: number } = {},
): Promise<GroupInvite> {
  const result = await http<{ invite: GroupInvite }>(admin.base, 'POST', `/groups/${groupId}/invites`, {
    token: admin.token,
    body,
  })
  if (result.status !== 201) throw new Error(`invite failed: ${result.status} ${JSON.stringify(result.body)}`)
  return result.body.invite
}

/** The membership changes of a log, as short lines ("+2,3 added by 1", "-3 by 3", "3 owner by 1"). */
export function changesOf(events: GroupEvent[]): string[] {
  return events.flatMap((e) => {
    if (e.type !== 'group_updated') return []
    const { by, change } = e.data
    switch (change.kind) {
      case 'members_added':
        return [`+${change.members.map((m) => m.userId).join(',')} ${change.via} by ${by}`]
      case 'member_removed':
        return [`-${change.userId} by ${by}`]
      case 'role':
        return [`${change.userId} ${change.role} by ${by}`]
      default:
        return [`${change.kind} by ${by}`]
    }
  })
}
