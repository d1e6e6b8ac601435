import {
  type ConversationKey,
  defaultSettings,
  type MessageView,
  type Settings,
  type UserView,
} from '@parley/shared'
import { describe, expect, it, vi } from 'vitest'
import {
  type NotificationSpec,
  Notifier,
  type NotifierDeps,
  notificationBody,
  senderName,
} from '../../src/main/notifier'

const sender: UserView = {
  id: 7,
  username: 'ada',
  firstName: 'Ada',
  lastName: 'Lovelace',
  avatarImageId: 'a'.repeat(64),
  createdAt: 0,
}

function message(overrides: Partial<MessageView> = {}): MessageView {
  return {
    localId: 100,
    id: 55,
    clientId: '00000000-0000-4000-8000-000000000000',
    senderId: 7,
    recipientId: 1,
    conversation: 'dm:7',
    mine: false,
    text: 'See you at the engine',
    image: null,
    createdAt: 1,
    editedAt: null,
    deletedAt: null,
    reactions: [],
    state: 'delivered',
    failure: null,
    changePending: false,
    position: 1,
    ...overrides,
  } as MessageView
}

interface FakeNotification {
  spec: NotificationSpec<string>
  shown: boolean
  closed: boolean
  click(): void
  reply(text: string): void
  /** The OS took it off screen by itself (a timeout). */
  expire(): void
}

function setup(
  overrides: Omit<Partial<NotifierDeps<string>>, 'settings'> & { settings?: Partial<Settings> } = {},
) {
  const created: FakeNotification[] = []
  const state = {
    settings: { ...defaultSettings, ...overrides.settings } as Settings,
    muted: false,
    window: { visible: false, focused: false },
    viewing: null as ConversationKey | null,
  }
  const open = vi.fn()
  const reply = vi.fn(async () => undefined)
  const removeGroup = vi.fn()
  const { settings: _, ...rest } = overrides
  const notifier = new Notifier<string>({
    platform: 'darwin',
    create: (spec) => {
      const listeners: { click?: () => void; reply?: (text: string) => void; close?: () => void } = {}
      const fake: FakeNotification = {
        spec,
        shown: false,
        closed: false,
        click: () => listeners.click?.(),
        reply: (text) => listeners.reply?.(text),
        expire: () => listeners.close?.(),
      }
      created.push(fake)
      return {
        show: () => {
          fake.shown = true
        },
        close: () => {
          fake.closed = true
          listeners.close?.()
        },
        onClick: (l) => {
          listeners.click = l
        },
        onReply: (l) => {
          listeners.reply = l
        },
        onClose: (l) => {
          listeners.close = l
        },
      }
    },
    settings: () => state.settings,
    isMuted: () => state.muted,
    window: () => state.window,
    viewing: () => state.viewing,
    avatar: async (id) => `avatar:${id.slice(0, 4)}`,
    open,
    reply,
    removeGroup,
    ...rest,
  })
  const received = (m = message(), count = 1, from: UserView | null = sender) =>
    notifier.received({
      conversation: m.conversation,
      count,
      message: m,
      sender: from,
      title: from ? `${from.firstName} ${from.lastName}` : 'Unknown user',
      mentionsMe: m.mentionsMe,
    })
  return { notifier, created, state, open, reply, removeGroup, received }
}

describe('notifications', () => {
  it('on Windows a toast that timed out (now in Action Center) is still withdrawn once read; elsewhere it is forgotten', async () => {
    const windows = setup({ platform: 'win32' })
    await windows.received()
    windows.created[0]?.expire()
    expect(windows.notifier.showing).toEqual(['dm:7'])
    windows.notifier.unreadChanged({ total: 0, conversations: [] })
    expect(windows.created[0]?.closed).toBe(true)

    const linux = setup({ platform: 'linux' })
    await linux.received()
    linux.created[0]?.expire()
    expect(linux.notifier.showing).toEqual([])
  })

  it('a message while the window is hidden notifies with the sender, text, avatar and sound', async () => {
    const { created, received } = setup()
    await received()
    expect(created).toHaveLength(1)
    expect(created[0]).toMatchObject({
      shown: true,
      spec: {
        title: 'Ada Lovelace',
        body: 'See you at the engine',
        silent: false,
        icon: 'avatar:aaaa',
        hasReply: true,
        groupId: 'conversation-dm:7',
      },
    })
  })

  it('not when the window is focused on that conversation; yes when it shows another one or is unfocused', async () => {
    const { created, state, received } = setup()
    state.window = { visible: true, focused: true }
    state.viewing = 'dm:7'
    await received()
    expect(created).toHaveLength(0)
    state.viewing = 'dm:8'
    await received()
    expect(created).toHaveLength(1)
    state.viewing = 'dm:7'
    state.window = { visible: true, focused: false }
    await received()
    expect(created).toHaveLength(2)
  })

  it('respects the settings (off, muted contact), the tray mute, and never notifies own messages', async () => {
    const { created, state, received } = setup()
    state.settings = { ...state.settings, notifications: false }
    await received()
    state.settings = { ...state.settings, notifications: true, mutedConversations: ['dm:7'] }
    await received()
    state.settings = { ...state.settings, mutedConversations: [] }
    state.muted = true
    await received()
    state.muted = false
    await received(message({ mine: true }))
    expect(created).toHaveLength(0)
    await received()
    expect(created).toHaveLength(1)
  })

  it('hides the text when previews are off, and is silent when sound is off', async () => {
    const { created, received } = setup({ settings: { notificationPreview: false, sound: false } })
    await received(message(), 3)
    expect(created[0]?.spec).toMatchObject({ title: 'Ada Lovelace', body: '3 new messages', silent: true })
    expect(JSON.stringify(created[0]?.spec)).not.toContain('engine')
  })

  it('clicking opens that conversation at the message', async () => {
    const { created, open, received } = setup()
    await received()
    created[0]?.click()
    expect(open).toHaveBeenCalledWith('dm:7', 100)
  })

  it('an inline reply is sent to that conversation (trimmed; empty replies are dropped)', async () => {
    const { created, reply, received } = setup()
    await received()
    created[0]?.reply('  on my way  ')
    await received()
    created[1]?.reply('   ')
    expect(reply).toHaveBeenCalledTimes(1)
    expect(reply).toHaveBeenCalledWith('dm:7', 'on my way')
  })

  it('inline reply is offered on macOS and Windows, not on Linux', async () => {
    const linux = setup({ platform: 'linux' })
    await linux.received()
    expect(linux.created[0]?.spec.hasReply).toBe(false)
    expect(linux.created[0]?.spec.replyPlaceholder).toBeUndefined()
  })

  it('on Linux, markup in a name or text is escaped, so libnotify shows it as typed; elsewhere it is left alone', async () => {
    const text = '<a href="https://evil.example">Verify</a> your account & <b>win</b>'
    const from = { ...sender, firstName: '<i>Ada</i>', lastName: '& Co' }
    const linux = setup({ platform: 'linux' })
    await linux.received(message({ text }), 1, from)
    expect(linux.created[0]?.spec).toMatchObject({
      title: '&lt;i&gt;Ada&lt;/i&gt; &amp; Co',
      body: '&lt;a href="https://evil.example"&gt;Verify&lt;/a&gt; your account &amp; &lt;b&gt;win&lt;/b&gt;',
    })
    const mac = setup({ platform: 'darwin' })
    await mac.received(message({ text }), 1, from)
    expect(mac.created[0]?.spec).toMatchObject({ title: '<i>Ada</i> & Co', body: text })
  })

  it('keeps one notification per conversation, and withdraws them once it has nothing unread', async () => {
    const { created, notifier, removeGroup, received } = setup()
    await received()
    await received(message({ localId: 101, text: 'second' }))
    await received(message({ conversation: 'dm:9', senderId: 9, localId: 102 }), 1, { ...sender, id: 9 })
    expect(created.map((n) => n.closed)).toEqual([true, false, false])
    expect(notifier.showing.sort()).toEqual(['dm:7', 'dm:9'])
    notifier.unreadChanged({ total: 2, conversations: [{ conversation: 'dm:9', count: 2 }] })
    expect(created.map((n) => n.closed)).toEqual([true, true, false])
    expect(removeGroup).toHaveBeenCalledWith('conversation-dm:7')
    expect(removeGroup).not.toHaveBeenCalledWith('conversation-dm:9')
    expect(notifier.showing).toEqual(['dm:9'])
    notifier.unreadChanged({ total: 0, conversations: [] })
    expect(created[2]?.closed).toBe(true)
    expect(removeGroup).toHaveBeenCalledWith('conversation-dm:9')
  })

  it('a conversation read elsewhere withdraws notifications left from before a restart (by group)', () => {
    const { notifier, removeGroup } = setup()
    notifier.unreadChanged({ total: 4, conversations: [{ conversation: 'dm:12', count: 4 }] })
    expect(removeGroup).not.toHaveBeenCalled()
    notifier.unreadChanged({ total: 0, conversations: [] })
    expect(removeGroup).toHaveBeenCalledWith('conversation-dm:12')
  })

  it('a slow or missing avatar does not hold the notification back', async () => {
    const { created, received } = setup({
      avatar: () => new Promise<string | null>(() => undefined),
      avatarTimeoutMs: 20,
    })
    await received()
    expect(created[0]?.shown).toBe(true)
    expect(created[0]?.spec.icon).toBeUndefined()
    const failing = setup({ avatar: async () => Promise.reject(new Error('offline')) })
    await failing.received()
    expect(failing.created[0]?.spec.icon).toBeUndefined()
  })

  it('does not notify when the user opened the conversation while the avatar loaded', async () => {
    let resolveAvatar: (value: string) => void = () => undefined
    const { created, state, received } = setup({
      avatar: () =>
        new Promise<string>((resolve) => {
          resolveAvatar = resolve
        }),
    })
    const pending = received()
    state.window = { visible: true, focused: true }
    state.viewing = 'dm:7'
    resolveAvatar('a')
    await pending
    expect(created).toHaveLength(0)
  })

  it('names and bodies', () => {
    expect(senderName(null)).toBe('New message')
    expect(senderName({ ...sender, firstName: '', lastName: '' })).toBe('ada')
    const image = { id: 'i', width: 1, height: 1, mime: 'image/png', bytes: 1, local: false }
    expect(notificationBody(message({ text: null, image } as Partial<MessageView>), 1, true)).toBe('Photo')
    expect(notificationBody(message({ text: 'look', image } as Partial<MessageView>), 1, true)).toBe(
      'Photo: look',
    )
    expect(notificationBody(message({ text: 'a\n\n  b' }), 2, true)).toBe('a b (+1 more)')
    expect(notificationBody(message({ text: 'x'.repeat(500) }), 1, true)).toHaveLength(200)
    expect(notificationBody(message(), 1, false)).toBe('New message')
  })
})
