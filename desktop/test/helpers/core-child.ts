// A desktop core in a process of its own, for a test to kill -9 like a crashed app.
// Arguments: the data folder, a conversation key, a text. It says `online` once connected, then on
// a `send` line from its parent writes the message (messages.send: the local write and the outbox
// entry) and says `written`; then it runs on until killed.
import { createInterface } from 'node:readline'
import type { ConversationKey } from '@parley/shared'
import { silentLogger } from '../../src/core/logger'
import { CoreService } from '../../src/core/service'
import { fastTiming } from './core'

const [dataDir, conversation, text] = process.argv.slice(2) as [string, ConversationKey, string]
const service = await CoreService.start({ dataDir, logger: silentLogger, timing: fastTiming })

for (;;) {
  const state = await service.call('connection.get', {})
  if (state.ok && state.value.state === 'online') break
  await new Promise((resolve) => setTimeout(resolve, 25))
}
process.stdout.write('online\n')
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'send') continue
  const sent = await service.call('messages.send', { conversation, text })
  process.stdout.write(sent.ok ? 'written\n' : `failed ${sent.error.code}\n`)
}
