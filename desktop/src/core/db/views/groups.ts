import {
  displayName,
  type GroupChange,
  type GroupEventView,
  type GroupRole,
  type GroupView,
  type PersonRef,
  type UserView,
} from '@parley/shared'
import type { LocalDb } from '../local-db'
import { accountRow } from '../tables/account'
import { groupMembers, groupRow } from '../tables/groups'
import { userView } from './contacts'

// Groups as the bridge shows them, and the group changes of a timeline as sentences.

/** A user's view, this account's own profile included (it is not in the users table). */
export function anyUserView(db: LocalDb, me: number, id: number): UserView | null {
  if (id === me) {
    const a = accountRow(db)
    if (a)
      return {
        id: a.user_id,
        username: a.username,
        firstName: a.first_name,
        lastName: a.last_name,
        avatarImageId: a.avatar_image_id,
        createdAt: a.created_at,
      }
  }
  return userView(db, id)
}

export function personRef(db: LocalDb, me: number, id: number): PersonRef {
  const user = anyUserView(db, me, id)
  return { userId: id, displayName: displayName(user), avatarImageId: user?.avatarImageId ?? null }
}

export function groupView(db: LocalDb, me: number, groupId: number): GroupView | undefined {
  const g = groupRow(db, groupId)
  if (!g) return undefined
  return {
    key: `group:${groupId}`,
    id: g.id,
    title: g.title,
    avatarImageId: g.avatar,
    createdAt: g.created_at,
    createdBy: g.created_by,
    memberCount: g.member_count,
    role: g.role,
    left: g.left_at !== null,
    leftReason: g.left_reason,
    members: groupMembers(db, groupId).map((m) => {
      const user = anyUserView(db, me, m.user_id) ?? {
        id: m.user_id,
        username: '',
        firstName: '',
        lastName: '',
        avatarImageId: null,
        createdAt: 0,
      }
      return { user, role: m.role, joinedAt: m.joined_at, me: m.user_id === me }
    }),
  }
}

/** Member ids whose profile this device does not have. */
export function unknownMembers(db: LocalDb, me: number, groupId: number): number[] {
  return groupMembers(db, groupId)
    .map((m) => m.user_id)
    .filter((id) => anyUserView(db, me, id) === null)
}

const ROLE_WORDS = { owner: 'the owner', admin: 'an admin', member: 'a member' } as const

/**
 * A role change as a sentence. About oneself it is the other half of a hand-over (the old owner
 * becomes an admin); a member's role is only ever given back by dismissing an admin.
 */
function roleText(role: GroupRole, by: string, self: boolean, whom: string, byMe: boolean): string {
  if (self) return `${by} ${byMe ? 'are' : 'is'} now ${ROLE_WORDS[role]}`
  if (role === 'owner') return `${by} made ${whom} the owner`
  if (role === 'member') return `${by} dismissed ${whom} as admin`
  return `${by} made ${whom} ${ROLE_WORDS[role]}`
}

/** A stored event row's `{by, change}` as the timeline shows it. */
export function eventView(db: LocalDb, me: number, json: string): GroupEventView {
  const { by, change } = JSON.parse(json) as { by: number; change: GroupChange }
  const who = (id: number) => (id === me ? 'You' : personRef(db, me, id).displayName)
  const whom = (id: number) => (id === me ? 'you' : personRef(db, me, id).displayName)
  const list = (ids: number[]) =>
    ids.length <= 1
      ? ids.map(whom).join('')
      : `${ids.slice(0, -1).map(whom).join(', ')} and ${whom(ids.at(-1) as number)}`
  const base = {
    kind: change.kind,
    by: personRef(db, me, by),
    members: [] as PersonRef[],
    via: null as GroupEventView['via'],
    role: null as GroupEventView['role'],
    title: null as string | null,
    avatarImageId: null as string | null,
  }
  switch (change.kind) {
    case 'members_added': {
      const ids = change.members.map((m) => m.userId)
      const others = ids.filter((id) => id !== by)
      const text =
        change.via === 'created'
          ? `${who(by)} created the group${others.length > 0 ? ` with ${list(others)}` : ''}`
          : change.via === 'invite' || (ids.length === 1 && ids[0] === by)
            ? `${who(by)} joined`
            : `${who(by)} added ${list(ids)}`
      return { ...base, members: ids.map((id) => personRef(db, me, id)), via: change.via, text }
    }
    case 'member_removed':
      return {
        ...base,
        members: [personRef(db, me, change.userId)],
        text: change.userId === by ? `${who(by)} left` : `${who(by)} removed ${whom(change.userId)}`,
      }
    case 'role':
      return {
        ...base,
        members: [personRef(db, me, change.userId)],
        role: change.role,
        text: roleText(change.role, who(by), change.userId === by, whom(change.userId), by === me),
      }
    case 'title':
      return { ...base, title: change.title, text: `${who(by)} renamed the group to “${change.title}”` }
    case 'avatar':
      return {
        ...base,
        avatarImageId: change.avatar,
        text: change.avatar
          ? `${who(by)} changed the group's picture`
          : `${who(by)} removed the group's picture`,
      }
    case 'deleted':
      return { ...base, text: `${who(by)} deleted the group` }
  }
}
