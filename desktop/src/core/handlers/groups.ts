import {
  type ConversationKey,
  type GroupInvite,
  type GroupInviteView,
  type GroupView,
  inviteCodeOf,
  inviteLink,
  MAX_IMAGE_BYTES,
  parseConversationKey,
  type ReceiptsView,
} from '@parley/shared'
import { dmPeer } from '@parley/shared/conversation'
import { sniffImage } from '@parley/shared/sniff'
import type { Account } from '../account'
import { emitGroup } from '../account-events'
import { online, refuse } from '../refusal'
import type { Core, Handlers } from './context'

type GroupMethods =
  | 'groups.create'
  | 'groups.get'
  | 'groups.update'
  | 'groups.addMembers'
  | 'groups.removeMember'
  | 'groups.leave'
  | 'groups.delete'
  | 'groups.setRole'
  | 'groups.invites.create'
  | 'groups.invites.list'
  | 'groups.invites.revoke'
  | 'groups.previewInvite'
  | 'groups.join'
  | 'messages.receipts'

const idOf = (key: ConversationKey): number => {
  const ref = parseConversationKey(key)
  return ref?.kind === 'group' ? ref.id : refuse('invalid_params', `${key} is not a group`)
}

const codeOf = (value: string): string =>
  inviteCodeOf(value) ?? refuse('invalid_params', 'Not an invite code or parley://join/ link')

function inviteView(i: GroupInvite): GroupInviteView {
  return { ...i, link: inviteLink(i.code) }
}

/** Group conversations: making and managing groups, invites, and who read what. */
export function groupHandlers(core: Core): Handlers<GroupMethods> {
  const { session } = core

  const fetchProfiles = (account: Account, ids: readonly number[]) => account.fetchProfiles(ids)

  /** After a change made here: the log brings it (with its timeline row); then the group's view. */
  const settle = async (account: Account, groupId: number): Promise<GroupView> => {
    await account.catchUpGroup(groupId)
    await fetchProfiles(account, account.groups.unknownMembers(groupId))
    emitGroup(core, account, groupId)
    return account.groups.view(groupId) ?? refuse('group_not_found', 'No such group')
  }

  /** A group this account is in, here: else `not_found`. */
  const member = (account: Account, key: ConversationKey): number => {
    const id = idOf(key)
    if (!account.groups.isMember(id)) refuse('not_found', `You are not in ${key}`)
    return id
  }

  /** The group ended for this account (it left, or deleted it): read only here from now on. */
  const ended = (account: Account, key: ConversationKey, id: number, reason: 'left' | 'deleted') => {
    const localId = account.groups.ended(id, core.clock(), reason)
    if (localId !== undefined) core.changes.messages(account, key, [localId])
    emitGroup(core, account, id)
  }

  const uploadPicture = async (account: Account, dataBase64: string): Promise<string> => {
    const bytes = Buffer.from(dataBase64, 'base64')
    if (bytes.length === 0) refuse('invalid_params', 'The picture is empty')
    if (bytes.length > MAX_IMAGE_BYTES) refuse('image_too_large', 'The file is larger than 10 MB')
    const mime =
      sniffImage(bytes).mime ??
      refuse('unsupported_image', 'The file is not a PNG, JPEG, GIF or WebP picture (judged by its bytes)')
    return (await online(account.uploadImage(bytes, mime))).image.id
  }

  return {
    'groups.create': async ({ title, memberIds, avatarBase64 }) => {
      const account = session.signedIn()
      const avatar = avatarBase64 === undefined ? undefined : await uploadPicture(account, avatarBase64)
      let { group } = await online(account.relayCall('createGroup', { body: { title, memberIds } }))
      if (avatar !== undefined) {
        group = (
          await online(
            account.relayCall('patchGroup', { params: { id: group.id }, body: { avatarImageId: avatar } }),
          )
        ).group
      }
      account.saveGroupSnapshot(group)
      account.groups.touch(group.id, group.createdAt)
      return settle(account, group.id)
    },
    'groups.get': async ({ group: key }) => {
      const account = session.signedIn()
      const id = idOf(key)
      const known = account.groups.has(id)
      if (!known || account.groups.isMember(id)) {
        const fresh = await account.relayCall('getGroup', { params: { id } })
        if (fresh.ok) {
          account.saveGroupSnapshot(fresh.value.group)
          await fetchProfiles(account, account.groups.unknownMembers(id))
        } else if (!known) {
          refuse(fresh.error.code === 'network' ? 'offline' : 'not_found', `No group ${id} on this device`)
        }
      }
      return account.groups.view(id) ?? refuse('not_found', `No group ${id} on this device`)
    },
    'groups.update': async ({ group: key, title, avatarBase64 }) => {
      const account = session.signedIn()
      const id = member(account, key)
      const avatarImageId =
        avatarBase64 === undefined
          ? undefined
          : avatarBase64 === null
            ? null
            : await uploadPicture(account, avatarBase64)
      const body = {
        ...(title !== undefined && { title }),
        ...(avatarImageId !== undefined && { avatarImageId }),
      }
      if (Object.keys(body).length === 0) refuse('invalid_params', 'Give a title or a picture')
      await online(account.relayCall('patchGroup', { params: { id }, body }))
      return settle(account, id)
    },
    'groups.addMembers': async ({ group: key, userIds }) => {
      const account = session.signedIn()
      const id = member(account, key)
      await online(account.relayCall('addGroupMembers', { params: { id }, body: { userIds } }))
      return settle(account, id)
    },
    'groups.removeMember': async ({ group: key, userId }) => {
      const account = session.signedIn()
      const id = member(account, key)
      if (userId === account.me) refuse('invalid_params', 'To leave a group, use groups.leave')
      await online(account.relayCall('removeGroupMember', { params: { id, userId } }))
      return settle(account, id)
    },
    'groups.leave': async ({ group: key }) => {
      const account = session.signedIn()
      const id = member(account, key)
      await online(account.relayCall('removeGroupMember', { params: { id, userId: account.me } }))
      ended(account, key, id, 'left')
      return null
    },
    'groups.delete': async ({ group: key }) => {
      const account = session.signedIn()
      const id = member(account, key)
      if (account.groups.view(id)?.role !== 'owner')
        refuse('not_group_admin', 'Only the owner deletes a group')
      await online(account.relayCall('deleteGroup', { params: { id } }))
      ended(account, key, id, 'deleted')
      return null
    },
    'groups.setRole': async ({ group: key, userId, role }) => {
      const account = session.signedIn()
      const id = member(account, key)
      await online(account.relayCall('patchGroupMember', { params: { id, userId }, body: { role } }))
      return settle(account, id)
    },
    'groups.invites.create': async ({ group: key, maxUses, expiresInMs }) => {
      const account = session.signedIn()
      const id = member(account, key)
      const body = {
        ...(maxUses !== undefined && { maxUses }),
        ...(expiresInMs !== undefined && { expiresAt: core.clock() + expiresInMs }),
      }
      const { invite } = await online(account.relayCall('createGroupInvite', { params: { id }, body }))
      return inviteView(invite)
    },
    'groups.invites.list': async ({ group: key }) => {
      const account = session.signedIn()
      const id = member(account, key)
      const { invites } = await online(account.relayCall('listGroupInvites', { params: { id } }))
      return invites.map(inviteView)
    },
    'groups.invites.revoke': async ({ group: key, code }) => {
      const account = session.signedIn()
      const id = member(account, key)
      await online(account.relayCall('revokeGroupInvite', { params: { id, code } }))
      return null
    },
    'groups.previewInvite': async ({ code: given }) => {
      const account = session.signedIn()
      const code = codeOf(given)
      const { group } = await online(account.relayCall('previewInvite', { params: { code } }))
      return {
        code,
        groupId: group.id,
        title: group.title,
        avatarImageId: group.avatar,
        memberCount: group.memberCount,
        member: account.groups.isMember(group.id),
      }
    },
    'groups.join': async ({ code: given }) => {
      const account = session.signedIn()
      const code = codeOf(given)
      const { group } = await online(account.relayCall('joinWithInvite', { params: { code } }))
      account.saveGroupSnapshot(group)
      const key = `group:${group.id}` as const
      account.groups.touch(group.id, core.clock())
      await settle(account, group.id)
      return account.groups.conversation(key)
    },
    'messages.receipts': async ({ localId }) => {
      const account = session.signedIn()
      const row = account.messages.row(localId)
      const conversation = account.conversations.keyOf(row)
      const none: ReceiptsView = { read: [], delivered: [], offline: false }
      if (row.server_id === null) return none
      const serverId = row.server_id
      const local = (whose: 'own' | 'peer', userId: number, offline: boolean): ReceiptsView => {
        const user = account.groups.user(userId)
        const known = account.conversations.receiptOf(conversation, whose, serverId)
        if (!user || !known.delivered) return { ...none, offline }
        const entry = { user, deliveredAt: known.deliveredAt, readAt: known.readAt }
        return { read: known.read ? [entry] : [], delivered: known.read ? [] : [entry], offline }
      }
      // Someone else's message: you have it here, so it reached you; when, as the feed told.
      if (row.sender_id !== account.me) return local('own', account.me, false)
      const peer = dmPeer(conversation)
      const asked = await account.relayCall('messageReceipts', { params: { id: serverId } })
      if (!asked.ok && asked.error.code === 'network' && peer !== null) return local('peer', peer, true)
      const { read, delivered, times } = await online(asked)
      await fetchProfiles(account, [...read, ...delivered])
      const at = (list: { userId: number; at: number }[] | undefined) =>
        new Map((list ?? []).map((t) => [t.userId, t.at]))
      const deliveredAt = at(times?.delivered)
      const readAt = at(times?.read)
      const entries = (ids: number[]) =>
        ids.flatMap((id) => {
          const user = account.groups.user(id)
          return user
            ? [{ user, deliveredAt: deliveredAt.get(id) ?? null, readAt: readAt.get(id) ?? null }]
            : []
        })
      return { read: entries(read), delivered: entries(delivered), offline: false }
    },
  }
}
