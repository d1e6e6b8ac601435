import type { ConversationKey, ConversationView, GroupView, UserView } from '@parley/shared'
import { conversationRow, touchConversation } from '../db/tables/conversations'
import { groupRow, insertEventRow, markLeft } from '../db/tables/groups'
import { type UserFields, upsertUser } from '../db/tables/users'
import { conversationView } from '../db/views/conversations'
import { anyUserView, groupView, unknownMembers } from '../db/views/groups'
import { refuse } from '../refusal'
import { AccountActions } from './base'

/** Groups on this device: their rows and views, and what a change made here writes at once. */
export class GroupActions extends AccountActions {
  /** Whether this account is in the group, as far as this device knows. */
  isMember(groupId: number): boolean {
    const g = groupRow(this.db, groupId)
    return g !== undefined && g.left_at === null
  }

  /** Known here at all (in it, or left). */
  has(groupId: number): boolean {
    return groupRow(this.db, groupId) !== undefined
  }

  view(groupId: number): GroupView | undefined {
    return groupView(this.db, this.me, groupId)
  }

  /** Members whose profile this device lacks. */
  unknownMembers(groupId: number): number[] {
    return unknownMembers(this.db, this.me, groupId)
  }

  user(id: number): UserView | null {
    return anyUserView(this.db, this.me, id)
  }

  saveUser(user: UserFields): void {
    upsertUser(this.db, user)
  }

  /** Makes sure the group's conversation is listed (a group with no message yet). */
  touch(groupId: number, at: number): void {
    this.db.transaction(() => touchConversation(this.db, `group:${groupId}`, at))
  }

  conversation(key: ConversationKey): ConversationView {
    const row = conversationRow(this.db, key) ?? refuse('not_found', `No conversation ${key} on this device`)
    return conversationView(this.db, this.me, row)
  }

  /**
   * You left, or deleted the group: it stays, read only, with "You left" or "You deleted the group"
   * in its timeline; the row's local id.
   */
  ended(groupId: number, now: number, reason: 'left' | 'deleted'): number | undefined {
    return this.db.transaction(() => {
      if (!markLeft(this.db, groupId, now, reason)) return undefined
      touchConversation(this.db, `group:${groupId}`, now)
      const change = reason === 'deleted' ? { kind: 'deleted' } : { kind: 'member_removed', userId: this.me }
      return insertEventRow(this.db, {
        groupId,
        clientId: `${reason}:${groupId}:${now}`,
        by: this.me,
        event: { by: this.me, change },
        at: now,
      })
    })
  }
}
