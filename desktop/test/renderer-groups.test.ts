import {
  allowedActions,
  insertMention,
  inviteLink,
  mentionAt,
  mentionMatches,
  parseInvite,
  splitMentions,
} from '@parley/shared/groups'
import { describe, expect, it } from 'vitest'

const CODE = 'Q7mK2xR9pL4vN8sT3wY6zA'

describe('invite links', () => {
  it('takes a bare code, a parley:// link and an address ending in /join/<code>', () => {
    expect(parseInvite(CODE)).toBe(CODE)
    expect(parseInvite(`  ${inviteLink(CODE)}\n`)).toBe(CODE)
    expect(parseInvite(`https://chat.example.org/join/${CODE}?x=1`)).toBe(CODE)
  })
  it('finds no code in what is not one', () => {
    expect(parseInvite('')).toBeNull()
    expect(parseInvite('hello there')).toBeNull()
    expect(parseInvite('parley://join/short')).toBeNull()
    expect(parseInvite(`parley://join/${CODE}-extra`)).toBeNull()
  })
})

describe('mention completion', () => {
  const people = [
    { userId: 1, username: 'ada', firstName: 'Ada', lastName: 'Lovelace' },
    { userId: 2, username: 'grace_h', firstName: 'Grace', lastName: 'Hopper' },
    { userId: 3, username: 'alan', firstName: 'Alan', lastName: 'Turing' },
  ]

  it('finds the @word at the caret, only at a word start', () => {
    expect(mentionAt('hi @gr', 6)).toEqual({ start: 3, query: 'gr' })
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' })
    expect(mentionAt('mail me@ada', 11)).toBeNull()
    expect(mentionAt('hi @gr there', 12)).toBeNull()
  })

  it('ranks names starting with the query before names containing it', () => {
    expect(mentionMatches(people, 'a').map((p) => p.userId)).toEqual([1, 3, 2])
    expect(mentionMatches(people, 'hop').map((p) => p.userId)).toEqual([2])
    expect(mentionMatches(people, 'zz')).toEqual([])
  })

  it('puts the username in place of what was typed, with a space to go on', () => {
    const text = 'hi @gr and more'
    expect(insertMention(text, { start: 3, query: 'gr' }, 6, 'grace_h')).toEqual({
      text: 'hi @grace_h  and more',
      caret: 12,
    })
  })

  it('marks only the members’ @usernames in a text', () => {
    const parts = splitMentions('hey @ada, and @nobody or me@ada.', new Set(['ada']))
    expect(parts).toEqual([
      { text: 'hey ' },
      { text: '@ada', mention: 'ada' },
      { text: ', and @nobody or me@ada.' },
    ])
  })
})

describe('member actions', () => {
  it('shows each action only to whom the relay allows it', () => {
    expect(allowedActions('member', 'member', false)).toEqual({
      promote: false,
      demote: false,
      remove: false,
      handOver: false,
    })
    expect(allowedActions('admin', 'member', false)).toMatchObject({
      promote: true,
      remove: true,
      handOver: false,
    })
    expect(allowedActions('admin', 'owner', false)).toMatchObject({ demote: false, remove: false })
    expect(allowedActions('owner', 'admin', false)).toEqual({
      promote: false,
      demote: true,
      remove: true,
      handOver: true,
    })
    expect(allowedActions('owner', 'owner', true)).toMatchObject({ remove: false, handOver: false })
  })
})
