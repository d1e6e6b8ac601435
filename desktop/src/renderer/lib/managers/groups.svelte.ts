import type {
  ConversationKey,
  ConversationView,
  GroupInviteView,
  GroupPreviewView,
  GroupView,
} from '@parley/shared'
import type { Role } from '@parley/shared/groups'
import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import { toBase64 } from '../pictures'

type GroupKey = `group:${number}`

export function isGroupKey(key: ConversationKey | null | undefined): key is GroupKey {
  return !!key && key.startsWith('group:')
}

/**
 * Groups: the open group's details (members and roles, for its header, members panel and mention
 * completion), creating and joining, and what the owner and admins do to a group. The chat list
 * keeps the group's row (title, picture, member count, your role) from `conversations.changed`;
 * the open group follows `groups.changed`, so a change made elsewhere shows here.
 */
export class GroupsState {
  readonly #bridge: Bridge
  /** The open group's details, once read (null for a 1:1 conversation, or before). */
  #open = $state<GroupView | null>(null)
  #openKey: GroupKey | null = null
  #reading = 0

  constructor(bridge: Bridge) {
    this.#bridge = bridge
    // The core tells the whole group after any change of it (made here, elsewhere, or by others).
    bridge.on('groups.changed', ({ conversation, group }) => {
      if (conversation === this.#openKey) {
        this.#reading++
        this.#open = group
      }
    })
    bridge.onReconnect(() => void this.refresh())
  }

  /** The open group, with its members; null while not read yet, or no group is open. */
  get open(): GroupView | null {
    return this.#open
  }

  /** Follows the conversation shown: reads the group's members when it is a group. */
  show(key: ConversationKey | null): void {
    const next = isGroupKey(key) ? key : null
    if (next === this.#openKey) return
    this.#openKey = next
    this.#open = null
    if (next) void this.refresh()
  }

  async refresh(): Promise<void> {
    const key = this.#openKey
    if (!key) return
    const reading = ++this.#reading
    try {
      const group = await call(this.#bridge, 'groups.get', { group: key })
      if (reading === this.#reading && key === this.#openKey) this.#open = group
    } catch {
      // Left, or not reachable now: the row says so; what was read stays.
    }
  }

  async create(title: string, memberIds: number[], picture: Blob | null): Promise<GroupView> {
    const group = await call(this.#bridge, 'groups.create', {
      title,
      memberIds,
      ...(picture && { avatarBase64: await toBase64(picture) }),
    })
    return group
  }

  async rename(key: GroupKey, title: string): Promise<void> {
    this.#take(await call(this.#bridge, 'groups.update', { group: key, title }))
  }

  async setPicture(key: GroupKey, picture: Blob | null): Promise<void> {
    const avatarBase64 = picture ? await toBase64(picture) : null
    this.#take(await call(this.#bridge, 'groups.update', { group: key, avatarBase64 }))
  }

  async addMembers(key: GroupKey, userIds: number[]): Promise<void> {
    this.#take(await call(this.#bridge, 'groups.addMembers', { group: key, userIds }))
  }

  async removeMember(key: GroupKey, userId: number): Promise<void> {
    this.#take(await call(this.#bridge, 'groups.removeMember', { group: key, userId }))
  }

  async setRole(key: GroupKey, userId: number, role: Role): Promise<void> {
    this.#take(await call(this.#bridge, 'groups.setRole', { group: key, userId, role }))
  }

  async leave(key: GroupKey): Promise<void> {
    await call(this.#bridge, 'groups.leave', { group: key })
    await this.refresh()
  }

  /** Deletes the group (its owner): it stays here, read only, as for every member. */
  async delete(key: GroupKey): Promise<void> {
    await call(this.#bridge, 'groups.delete', { group: key })
    await this.refresh()
  }

  invites(key: GroupKey): Promise<GroupInviteView[]> {
    return call(this.#bridge, 'groups.invites.list', { group: key })
  }
  createInvite(key: GroupKey): Promise<GroupInviteView> {
    return call(this.#bridge, 'groups.invites.create', { group: key })
  }
  revokeInvite(key: GroupKey, code: string): Promise<null> {
    return call(this.#bridge, 'groups.invites.revoke', { group: key, code })
  }

  preview(code: string): Promise<GroupPreviewView> {
    return call(this.#bridge, 'groups.previewInvite', { code })
  }
  join(code: string): Promise<ConversationView> {
    return call(this.#bridge, 'groups.join', { code })
  }

  #take(group: GroupView): void {
    if (group.key === this.#openKey) this.#open = group
  }
}
