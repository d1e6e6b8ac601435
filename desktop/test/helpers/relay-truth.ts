import type { AuthResponse, Message, SessionView } from '@parley/shared'
import { http } from './relay'

/** A token of our own for `session`'s user (a second device), to read or act on the relay directly. */
export async function secondDevice(relayUrl: string, session: SessionView): Promise<string> {
  const result = await http<AuthResponse>(relayUrl, 'POST', '/login', {
    body: { username: session.user.username, password: 'correct horse battery' },
  })
  if (result.status !== 200) throw new Error(`login failed: ${JSON.stringify(result.body)}`)
  return result.body.token
}

/** The whole conversation as the relay has it, oldest first: what a caught-up core must hold. */
export async function relayConversation(relayUrl: string, token: string, peerId: number): Promise<Message[]> {
  const all: Message[] = []
  let before: number | undefined
  for (;;) {
    const query = `/messages?with=${peerId}&limit=200${before ? `&before=${before}` : ''}`
    const page = await http<{ messages: Message[]; hasMore: boolean }>(relayUrl, 'GET', query, { token })
    if (page.status !== 200) throw new Error(`page failed: ${JSON.stringify(page.body)}`)
    all.push(...page.body.messages)
    if (!page.body.hasMore) break
    before = page.body.messages.at(-1)?.id
  }
  return all.reverse()
}

/** The texts of a group's messages as the relay has them (the newest 200), oldest first. */
export async function relayGroupTexts(relayUrl: string, token: string, groupId: number): Promise<string[]> {
  const page = await http<{ messages: Message[] }>(relayUrl, 'GET', `/messages?group=${groupId}&limit=200`, {
    token,
  })
  if (page.status !== 200) throw new Error(`page failed: ${JSON.stringify(page.body)}`)
  return page.body.messages.map((m) => m.text ?? '').reverse()
}
