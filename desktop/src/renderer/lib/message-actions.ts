import Copy from '@lucide/svelte/icons/copy'
import Download from '@lucide/svelte/icons/download'
import EyeOff from '@lucide/svelte/icons/eye-off'
import Forward from '@lucide/svelte/icons/forward'
import Info from '@lucide/svelte/icons/info'
import Link from '@lucide/svelte/icons/link'
import Pencil from '@lucide/svelte/icons/pencil'
import Reply from '@lucide/svelte/icons/reply'
import Trash2 from '@lucide/svelte/icons/trash-2'
import type { MessageView } from '@parley/shared'
import { messageLink } from '@parley/shared/conversation'
import type { Component } from 'svelte'
import { pictureFileName } from './download'
import type { MediaCache } from './managers/media.svelte'
import type { UiState } from './managers/ui.svelte'

/** The reactions offered at once (the toolbar and the menu); the picker has the rest. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const

/** What the menu knows of a message and can do to it (MessageItem provides it). */
export interface MessageActionContext {
  message: MessageView
  /** The core has it (it is no longer only in the composer's queue): it can be changed. */
  handedOver: boolean
  /** An owner or admin of its group, on someone else's message: may delete it for everyone. */
  moderates: boolean
  /** The composer answers this message next. */
  reply(): void
  /** Opens the dialog to choose the chats. */
  forward(): void
  copyText(): Promise<void>
  copyLink(): Promise<void>
  savePicture(): Promise<void>
  saveFile(): Promise<void>
  edit(): void
  /** Asks first: it cannot be taken back. */
  deleteForEveryone(): void
  /** Asks first; hides it on your devices only. */
  deleteForMe(): void
  showInfo(): void
}

export interface MessageAction {
  id: string
  label: string
  icon: Component
  /** Shown in the danger colour, apart from the others. */
  danger?: boolean
  /** Whether it is offered for this message. */
  when(context: MessageActionContext): boolean
  run(context: MessageActionContext): void | Promise<void>
}

const live = ({ message }: MessageActionContext) => message.deletedAt === null && message.kind !== 'event'

/**
 * The message menu, in the order shown: every item, and when it is offered, in one place (a new
 * gesture, such as reply or forward, is one more entry here and one more method on the context).
 */
export const MESSAGE_ACTIONS: readonly MessageAction[] = [
  {
    // Only a message the relay has can be answered (the reply names it by the relay's id).
    id: 'reply',
    label: 'Reply',
    icon: Reply,
    when: (c) => live(c) && c.message.id !== null,
    run: (c) => c.reply(),
  },
  {
    id: 'forward',
    label: 'Forward…',
    icon: Forward,
    when: (c) => live(c) && c.message.id !== null,
    run: (c) => c.forward(),
  },
  {
    id: 'copy-text',
    label: 'Copy text',
    icon: Copy,
    when: (c) => live(c) && !!c.message.text,
    run: (c) => c.copyText(),
  },
  {
    // A link to the message, by the relay's id: only once the relay has it.
    id: 'copy-link',
    label: 'Copy link',
    icon: Link,
    when: (c) => live(c) && c.message.id !== null,
    run: (c) => c.copyLink(),
  },
  {
    id: 'save-picture',
    label: 'Save picture',
    icon: Download,
    when: (c) => live(c) && c.message.image !== null,
    run: (c) => c.savePicture(),
  },
  {
    id: 'save-file',
    label: 'Save file',
    icon: Download,
    when: (c) => live(c) && c.message.file !== null && !c.message.file.local,
    run: (c) => c.saveFile(),
  },
  {
    id: 'edit',
    label: 'Edit',
    icon: Pencil,
    when: (c) => live(c) && c.message.mine && c.handedOver && c.message.state !== 'failed',
    run: (c) => c.edit(),
  },
  {
    id: 'info',
    label: 'Info',
    icon: Info,
    when: live,
    run: (c) => c.showInfo(),
  },
  {
    id: 'delete-for-me',
    label: 'Delete for me',
    icon: EyeOff,
    danger: true,
    when: (c) => c.message.kind !== 'event' && c.handedOver && c.message.state !== 'failed',
    run: (c) => c.deleteForMe(),
  },
  {
    id: 'delete-for-everyone',
    label: 'Delete for everyone',
    icon: Trash2,
    danger: true,
    when: (c) => live(c) && (c.message.mine || c.moderates) && c.handedOver && c.message.state !== 'failed',
    run: (c) => c.deleteForEveryone(),
  },
]

export function actionsFor(context: MessageActionContext): MessageAction[] {
  return MESSAGE_ACTIONS.filter((action) => action.when(context))
}

/** Where a message's context takes what it needs (read when an action runs, so always current). */
export interface ActionSources {
  message: () => MessageView
  handedOver: () => boolean
  moderates: () => boolean
  media: MediaCache
  ui: UiState
  edit: () => void
  reply: () => void
  saveFile: () => Promise<void>
  deleteForEveryone: () => void
  deleteForMe: () => void
  /** Something could not be done: said under the message. */
  failed: (why: string) => void
}

export function actionContext(from: ActionSources): MessageActionContext {
  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text)
    } catch {
      from.failed('The clipboard refused the copy; select the text and copy it instead.')
    }
  }
  return {
    get message() {
      return from.message()
    },
    get handedOver() {
      return from.handedOver()
    },
    get moderates() {
      return from.moderates()
    },
    reply: from.reply,
    saveFile: from.saveFile,
    forward: () => {
      from.ui.dialog = { kind: 'forward', message: from.message() }
    },
    copyText: () => copy(from.message().text ?? ''),
    copyLink: async () => {
      const { id } = from.message()
      if (id !== null) await copy(messageLink(id))
    },
    savePicture: async () => {
      const message = from.message()
      if (message.image && !(await from.media.save(message.image.id, pictureFileName(message))))
        from.failed('The picture cannot be saved while offline.')
    },
    edit: from.edit,
    deleteForEveryone: from.deleteForEveryone,
    deleteForMe: from.deleteForMe,
    showInfo: () => {
      from.ui.dialog = { kind: 'message-info', message: from.message() }
    },
  }
}
