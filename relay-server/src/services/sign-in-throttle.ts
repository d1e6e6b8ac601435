import type { Redis } from 'ioredis'

/**
 * Failed sign-ins slow down instead of locking: a counter that has seen `free` failures makes the
 * next attempt wait 1 s after the last failure, then 2 s, 4 s, ... up to `maxDelayMs`. A lock would
 * let anyone keep a known user out by failing on purpose; a delay only slows guessing down.
 *
 * Counters are checked and charged in one step (`reserve`), so a burst of parallel attempts cannot
 * slip through before the first failures are recorded; a sign-in that then succeeds gives its
 * charge back (`release`).
 */

export interface Gate {
  key: string
  /** Failures this counter allows before attempts must wait. */
  free: number
}

export interface ThrottlePolicy {
  maxDelayMs: number
  /** How long a counter is remembered after its last failure. */
  memoryMs: number
}

export interface FailureStore {
  /**
   * When every gate is open, charges one attempt to each of `charged` and returns 0; otherwise
   * charges nothing and returns how many ms until the last gate opens.
   */
  reserve(gates: readonly Gate[], charged: readonly string[], now: number): Promise<number>
  /** Takes one charge back from each key (the attempt succeeded). */
  release(keys: readonly string[]): Promise<void>
  /** Forgets the keys' failures. */
  clear(keys: readonly string[]): Promise<void>
}

/** How long after the last failure the next attempt must wait, for a counter at `failures`. */
export function delayAfter(failures: number, free: number, maxDelayMs: number): number {
  if (failures < free) return 0
  return Math.min(maxDelayMs, 1000 * 2 ** Math.min(failures - free, 40))
}

interface Count {
  failures: number
  lastAt: number
}

/** One relay's counters, in memory. At most `maxEntries`, the least recently failed dropped first. */
export class MemoryFailureStore implements FailureStore {
  readonly #counts = new Map<string, Count>()
  readonly #policy: ThrottlePolicy
  readonly #maxEntries: number

  constructor(policy: ThrottlePolicy, maxEntries = 100_000) {
    this.#policy = policy
    this.#maxEntries = maxEntries
  }

  #read(key: string, now: number): Count | undefined {
    const count = this.#counts.get(key)
    if (count && now - count.lastAt >= this.#policy.memoryMs) {
      this.#counts.delete(key)
      return undefined
    }
    return count
  }

  async reserve(gates: readonly Gate[], charged: readonly string[], now: number): Promise<number> {
    let wait = 0
    for (const { key, free } of gates) {
      const count = this.#read(key, now)
      if (!count) continue
      wait = Math.max(wait, count.lastAt + delayAfter(count.failures, free, this.#policy.maxDelayMs) - now)
    }
    if (wait > 0) return wait
    for (const key of charged) {
      const failures = (this.#read(key, now)?.failures ?? 0) + 1
      // Re-inserted so the map's order is by last failure, and the oldest go first.
      this.#counts.delete(key)
      this.#counts.set(key, { failures, lastAt: now })
    }
    for (const key of this.#counts.keys()) {
      if (this.#counts.size <= this.#maxEntries) break
      this.#counts.delete(key)
    }
    return 0
  }

  async release(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const count = this.#counts.get(key)
      if (count) count.failures = Math.max(0, count.failures - 1)
    }
  }

  async clear(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#counts.delete(key)
  }
}

// The same rule as delayAfter and MemoryFailureStore.reserve, run inside Redis so that checking and
// charging are one step for every relay. KEYS: the gates, then the charged keys. ARGV: now,
// memoryMs, maxDelayMs, the number of gates, then each gate's free failures.
const RESERVE_SCRIPT = `
local now = tonumber(ARGV[1])
local memory = tonumber(ARGV[2])
local maxDelay = tonumber(ARGV[3])
local gates = tonumber(ARGV[4])
local wait = 0
for i = 1, gates do
  local state = redis.call('HMGET', KEYS[i], 'failures', 'last')
  local failures = tonumber(state[1]) or 0
  local last = tonumber(state[2]) or 0
  local free = tonumber(ARGV[4 + i])
  if now - last < memory and failures >= free then
    local delay = math.min(maxDelay, 1000 * 2 ^ math.min(failures - free, 40))
    wait = math.max(wait, last + delay - now)
  end
end
if wait > 0 then return wait end
for i = gates + 1, #KEYS do
  local last = tonumber(redis.call('HGET', KEYS[i], 'last')) or 0
  if now - last >= memory then redis.call('DEL', KEYS[i]) end
  redis.call('HINCRBY', KEYS[i], 'failures', 1)
  redis.call('HSET', KEYS[i], 'last', now)
  redis.call('PEXPIRE', KEYS[i], memory)
end
return 0
`

const RELEASE_SCRIPT = `
for i = 1, #KEYS do
  if redis.call('HINCRBY', KEYS[i], 'failures', -1) < 0 then redis.call('DEL', KEYS[i]) end
end
return 0
`

/** Counters shared by every relay through Redis (keys under `prefix`). */
export class RedisFailureStore implements FailureStore {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #policy: ThrottlePolicy

  constructor(redis: Redis, prefix: string, policy: ThrottlePolicy) {
    this.#redis = redis
    this.#prefix = prefix
    this.#policy = policy
  }

  async reserve(gates: readonly Gate[], charged: readonly string[], now: number): Promise<number> {
    const keys = [...gates.map((g) => g.key), ...charged].map((key) => this.#prefix + key)
    const wait = await this.#redis.eval(
      RESERVE_SCRIPT,
      keys.length,
      ...keys,
      now,
      this.#policy.memoryMs,
      this.#policy.maxDelayMs,
      gates.length,
      ...gates.map((g) => g.free),
    )
    return Number(wait)
  }

  async release(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    await this.#redis.eval(RELEASE_SCRIPT, keys.length, ...keys.map((key) => this.#prefix + key))
  }

  async clear(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return
    await this.#redis.del(...keys.map((key) => this.#prefix + key))
  }
}
