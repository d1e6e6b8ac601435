import { describe, expect } from 'vitest'
import { isAppError } from '../src/errors'
import { dialects } from './helpers/dialects'
import { relayTests } from './helpers/relay'

const withRelay = relayTests({ env: { WRITE_BACKLOG: '100' } })

describe.each(dialects)('WRITE_BACKLOG (%s)', (dialect) => {
  const it = withRelay[dialect]

  it('writes beyond the backlog are refused with rate_limited at once; those taken all commit', async ({
    relay,
  }) => {
    const committer = relay.app.services.committer
    // 300 writes in one turn of the event loop, none committed yet: the first 100 are queued.
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) => committer.run(async () => i)),
    )
    const taken = results.filter((r) => r.status === 'fulfilled')
    const refused = results.filter((r) => r.status === 'rejected')
    expect(taken).toHaveLength(100)
    expect(refused).toHaveLength(200)
    for (const r of refused) {
      const reason = (r as PromiseRejectedResult).reason
      expect(isAppError(reason) && reason.code).toBe('rate_limited')
    }
    expect(taken.map((r) => (r as PromiseFulfilledResult<{ value: number }>).value.value)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    )
  })
})
