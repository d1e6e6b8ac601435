import { describe, expect, it } from 'vitest'
import { DeepLinkQueue, findDeepLink, openDeepLink, parseDeepLink } from '../../src/main/deep-link'

describe('deep links', () => {
  it('parley://conversation/<id> opens that conversation, with or without a trailing slash', () => {
    expect(parseDeepLink('parley://conversation/42')).toEqual({ kind: 'conversation', conversation: 'dm:42' })
    expect(parseDeepLink('parley://conversation/42/')).toEqual({
      kind: 'conversation',
      conversation: 'dm:42',
    })
    expect(parseDeepLink('PARLEY://Conversation/7')).toEqual({ kind: 'conversation', conversation: 'dm:7' })
  })

  it('parley://conversation/<key> names a 1:1 conversation or a group by its key', () => {
    expect(parseDeepLink('parley://conversation/dm:42')).toEqual({
      kind: 'conversation',
      conversation: 'dm:42',
    })
    expect(parseDeepLink('parley://conversation/group:3/')).toEqual({
      kind: 'conversation',
      conversation: 'group:3',
    })
  })

  it('parley://join/<code> opens the join screen of a group invite', () => {
    expect(parseDeepLink('parley://join/Jn4k2Qw8Zr5Tx7Lm9Pv3Hy')).toEqual({
      kind: 'join',
      code: 'Jn4k2Qw8Zr5Tx7Lm9Pv3Hy',
    })
    expect(parseDeepLink('parley://JOIN/Jn4k2Qw8Zr5Tx7Lm9Pv3Hy/')).toEqual({
      kind: 'join',
      code: 'Jn4k2Qw8Zr5Tx7Lm9Pv3Hy',
    })
    expect(findDeepLink(['/opt/Parley/parley', 'parley://join/Jn4k2Qw8Zr5Tx7Lm9Pv3Hy'])).toEqual({
      kind: 'join',
      code: 'Jn4k2Qw8Zr5Tx7Lm9Pv3Hy',
    })
  })

  it.each([
    'parley://join/short',
    'parley://join/Jn4k2Qw8Zr5Tx7Lm9Pv3Hy/extra',
    'parley://join/Jn4k2Qw8Zr5Tx7Lm9Pv3H_',
    'parley://join/Jn4k2Qw8Zr5Tx7Lm9Pv3Hy?auto=1',
    'parley://join/',
  ])('refuses the join link %s', (link) => {
    expect(parseDeepLink(link)).toBeNull()
  })

  it.each([
    'parley://conversation/0',
    'parley://conversation/dm:0',
    'parley://conversation/group:',
    'parley://conversation/channel:4',
    'parley://conversation/dm:4:5',
    'parley://conversation/-1',
    'parley://conversation/01',
    'parley://conversation/1.5',
    'parley://conversation/99999999999999999',
    'parley://conversation/',
    'parley://conversation/42/extra',
    'parley://conversation/42?text=hi',
    'parley://conversation/42#x',
    'parley://user:pw@conversation/42',
    'parley://conversation:8080/42',
    'parley://settings/42',
    'parley:conversation/42',
    'https://conversation/42',
    'javascript:alert(1)',
    `parley://conversation/${'1'.repeat(300)}`,
  ])('refuses %s', (link) => {
    expect(parseDeepLink(link)).toBeNull()
  })

  it('refuses what is not a string', () => {
    expect(parseDeepLink(42)).toBeNull()
    expect(parseDeepLink(null)).toBeNull()
  })

  it('finds the link among command-line arguments (second instance, Windows and Linux launch)', () => {
    expect(findDeepLink(['/opt/Parley/parley', '--no-sandbox', 'parley://conversation/9'])).toEqual({
      kind: 'conversation',
      conversation: 'dm:9',
    })
    expect(findDeepLink(['/opt/Parley/parley', '--hidden'])).toBeNull()
    expect(findDeepLink(['parley://conversation/bad', 'parley://conversation/3'])).toEqual({
      kind: 'conversation',
      conversation: 'dm:3',
    })
  })

  it('parley://message/<id> shows one message (by its relay id), with or without a trailing slash', () => {
    expect(parseDeepLink('parley://message/130')).toEqual({ kind: 'message', messageId: 130 })
    expect(parseDeepLink('parley://message/130/')).toEqual({ kind: 'message', messageId: 130 })
    expect(parseDeepLink('PARLEY://MESSAGE/7')).toEqual({ kind: 'message', messageId: 7 })
    expect(findDeepLink(['/opt/Parley/parley', 'parley://message/42'])).toEqual({
      kind: 'message',
      messageId: 42,
    })
  })

  it.each([
    'parley://message/0',
    'parley://message/01',
    'parley://message/-3',
    'parley://message/1.5',
    'parley://message/dm:4',
    'parley://message/99999999999999999',
    'parley://message/',
    'parley://message/42/extra',
    'parley://message/42?highlight=1',
    'parley://message/42#x',
    'parley://user:pw@message/42',
  ])('refuses the message link %s', (link) => {
    expect(parseDeepLink(link)).toBeNull()
  })

  it('each kind of link reaches what opens it, once the renderer listens', () => {
    const opened: string[] = []
    const targets = {
      openConversation: (key: string) => opened.push(`conversation ${key}`),
      openJoin: (code: string) => opened.push(`join ${code}`),
      openMessage: (id: number) => opened.push(`message ${id}`),
    }
    const queue = new DeepLinkQueue((link) => openDeepLink(link, targets))
    queue.open(parseDeepLink('parley://message/130'))
    expect(opened).toEqual([])
    queue.ready()
    queue.open(parseDeepLink('parley://join/Jn4k2Qw8Zr5Tx7Lm9Pv3Hy'))
    queue.open(parseDeepLink('parley://conversation/group:3'))
    expect(opened).toEqual(['message 130', 'join Jn4k2Qw8Zr5Tx7Lm9Pv3Hy', 'conversation group:3'])
  })

  it('holds a link until the renderer is listening, and again while it reloads', () => {
    const delivered: string[] = []
    const queue = new DeepLinkQueue((link) =>
      delivered.push(link.kind === 'conversation' ? link.conversation : 'other'),
    )
    queue.open(parseDeepLink('parley://conversation/5'))
    queue.open(null)
    expect(delivered).toEqual([])
    queue.ready()
    expect(delivered).toEqual(['dm:5'])
    queue.open(parseDeepLink('parley://conversation/6'))
    expect(delivered).toEqual(['dm:5', 'dm:6'])
    queue.unready()
    queue.open(parseDeepLink('parley://conversation/7'))
    expect(delivered).toEqual(['dm:5', 'dm:6'])
    queue.ready()
    queue.ready()
    expect(delivered).toEqual(['dm:5', 'dm:6', 'dm:7'])
  })
})
