import { refuse } from '../refusal'
import type { Core, Handlers } from './context'

type GroupMethods =
  | 'groups.create'
  | 'groups.get'
  | 'groups.update'
  | 'groups.addMembers'
  | 'groups.removeMember'
  | 'groups.leave'
  | 'groups.setRole'
  | 'groups.invites.create'
  | 'groups.invites.list'
  | 'groups.invites.revoke'
  | 'groups.previewInvite'
  | 'groups.join'
  | 'messages.receipts'

const notYet = async (): Promise<never> => refuse('not_found', 'Groups are not available yet')

/** Group conversations: making and managing groups, invites, and who read what. */
export function groupHandlers(core: Core): Handlers<GroupMethods> {
  void core
  return {
    'groups.create': notYet,
    'groups.get': notYet,
    'groups.update': notYet,
    'groups.addMembers': notYet,
    'groups.removeMember': notYet,
    'groups.leave': notYet,
    'groups.setRole': notYet,
    'groups.invites.create': notYet,
    'groups.invites.list': notYet,
    'groups.invites.revoke': notYet,
    'groups.previewInvite': notYet,
    'groups.join': notYet,
    'messages.receipts': notYet,
  }
}
