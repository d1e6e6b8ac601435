import { afterEach, describe, expect, it, vi } from 'vitest'
import { applyBadge, badgeText } from '../../src/main/badge'
import { HOUR_MS, NotificationMute } from '../../src/main/mute'
import { type MenuItemSpec, TrayController } from '../../src/main/tray'

afterEach(() => {
  vi.useRealTimers()
})

/** A tray that records what it was last given; the "menu" is the template itself. */
function fakeTray() {
  const state = { image: '', toolTip: '', menu: [] as MenuItemSpec[] }
  return {
    state,
    tray: {
      setImage: (image: string) => {
        state.image = image
      },
      setToolTip: (toolTip: string) => {
        state.toolTip = toolTip
      },
      setContextMenu: (menu: MenuItemSpec[] | null) => {
        state.menu = menu ?? []
      },
    },
  }
}

const item = (menu: MenuItemSpec[], id: string): MenuItemSpec | undefined =>
  menu.flatMap((i) => [i, ...(i.submenu ?? [])]).find((i) => i.id === id)

function setup(now = Date.UTC(2025, 0, 1, 12, 0)) {
  vi.useFakeTimers({ now })
  const { state, tray } = fakeTray()
  const mute = new NotificationMute()
  const actions = { open: vi.fn(), quit: vi.fn() }
  const controller = new TrayController<string, MenuItemSpec[]>({
    tray,
    buildMenu: (template) => template,
    icons: { normal: 'tray.png', unread: 'tray-unread.png' },
    mute,
    ...actions,
    formatTime: (ms) => new Date(ms).toISOString().slice(11, 16),
  })
  return { state, mute, controller, actions }
}

describe('tray', () => {
  it('shows the unread total as an icon variant and in the tooltip', () => {
    const { state, controller } = setup()
    expect(state).toMatchObject({ image: 'tray.png', toolTip: 'Parley' })
    controller.setUnread(3)
    expect(state).toMatchObject({ image: 'tray-unread.png', toolTip: 'Parley — 3 unread messages' })
    expect(item(state.menu, 'open')?.label).toBe('Open Parley (3)')
    controller.setUnread(1)
    expect(state.toolTip).toBe('Parley — 1 unread message')
    controller.setUnread(0)
    expect(state).toMatchObject({ image: 'tray.png', toolTip: 'Parley' })
  })

  it('Open and Quit call the shell', () => {
    const { state, actions } = setup()
    item(state.menu, 'open')?.click?.()
    item(state.menu, 'quit')?.click?.()
    expect(actions.open).toHaveBeenCalledOnce()
    expect(actions.quit).toHaveBeenCalledOnce()
  })

  it('mutes for 1 hour, says until when, and comes back by itself', () => {
    const { state, mute } = setup()
    item(state.menu, 'mute-1h')?.click?.()
    expect(mute.isMuted()).toBe(true)
    expect(item(state.menu, 'muted-until')).toMatchObject({
      label: 'Notifications muted until 13:00',
      enabled: false,
    })
    expect(item(state.menu, 'mute')).toBeUndefined()
    expect(state.toolTip).toBe('Parley — notifications muted')
    vi.advanceTimersByTime(HOUR_MS - 1000)
    expect(mute.isMuted()).toBe(true)
    vi.advanceTimersByTime(1000)
    expect(mute.isMuted()).toBe(false)
    // The menu was rebuilt when the time was up, not only the next time something else changed.
    expect(item(state.menu, 'mute')).toBeDefined()
    expect(state.toolTip).toBe('Parley')
  })

  it('mutes for 8 hours, or until turned back on', () => {
    const { state, mute } = setup()
    item(state.menu, 'mute-8h')?.click?.()
    expect(mute.until).toBe(Date.now() + 8 * HOUR_MS)
    item(state.menu, 'unmute')?.click?.()
    expect(mute.isMuted()).toBe(false)
    item(state.menu, 'mute-forever')?.click?.()
    expect(item(state.menu, 'muted-until')?.label).toBe('Notifications muted')
    vi.advanceTimersByTime(1000 * HOUR_MS)
    expect(mute.isMuted()).toBe(true)
    item(state.menu, 'unmute')?.click?.()
    expect(mute.isMuted()).toBe(false)
  })
})

describe('badge', () => {
  it('dock text is empty at zero and capped at 99+', () => {
    expect([0, 1, 99, 100, 5000].map(badgeText)).toEqual(['', '1', '99', '99+', '99+'])
  })

  it('macOS sets the dock badge, Windows the taskbar overlay, Linux the launcher count', () => {
    const calls: unknown[][] = []
    const targets = (platform: NodeJS.Platform) => ({
      platform,
      overlay: 'dot',
      setDockBadge: (text: string) => calls.push(['dock', text]),
      setOverlayIcon: (image: string | null, description: string) =>
        calls.push(['overlay', image, description]),
      setBadgeCount: (count: number) => calls.push(['count', count]) > 0,
    })
    applyBadge(targets('darwin'), 4)
    applyBadge(targets('darwin'), 0)
    applyBadge(targets('win32'), 2)
    applyBadge(targets('win32'), 0)
    applyBadge(targets('linux'), 7)
    applyBadge(targets('linux'), 0)
    expect(calls).toEqual([
      ['dock', '4'],
      ['dock', ''],
      ['overlay', 'dot', '2 unread messages'],
      ['overlay', null, ''],
      ['count', 7],
      ['count', 0],
    ])
  })
})
