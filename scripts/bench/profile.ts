import type { Profiler } from 'node:inspector'
import { Session } from 'node:inspector/promises'

/**
 * A V8 CPU profile of the current process, taken per bench phase (BENCH_PROFILE=1) and boiled
 * down to where the time went: self time by area (package or source file) and by function, and
 * inclusive time of the relay's own functions.
 */

export interface ProfileSummary {
  /** Sampled time, ms, and how much of it was not idle. */
  totalMs: number
  busyMs: number
  areas: { name: string; ms: number }[]
  selfTop: { name: string; ms: number }[]
  relayInclusive: { name: string; ms: number }[]
}

let session: Session | null = null

export async function startProfile(samplingMicros = 200): Promise<void> {
  if (!session) {
    session = new Session()
    session.connect()
    await session.post('Profiler.enable')
  }
  await session.post('Profiler.setSamplingInterval', { interval: samplingMicros })
  await session.post('Profiler.start')
}

export async function stopProfile(root: string): Promise<ProfileSummary | null> {
  if (!session) return null
  const { profile } = await session.post('Profiler.stop')
  return summarize(profile, root)
}

function trimUrl(url: string, root: string): string {
  const path = url.replace(/^file:\/\//, '')
  return path.startsWith(root) ? path.slice(root.length) : path
}

function areaOf(url: string): string {
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/')
    return `node:${parts[0] === 'internal' ? parts.slice(0, 2).join('/') : parts[0]}`
  }
  const modules = url.lastIndexOf('node_modules/')
  if (modules >= 0) {
    const parts = url.slice(modules + 'node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  return url
}

export function summarize(profile: Profiler.Profile, root: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

  // Each node's display name and area; native frames (no url) take the area of their caller.
  const names = new Map<number, { fn: string; area: string; relay: boolean }>()
  const describe = (id: number): { fn: string; area: string; relay: boolean } => {
    const known = names.get(id)
    if (known) return known
    const { callFrame } = byId.get(id)!
    const fnName = callFrame.functionName || '(anonymous)'
    let result: { fn: string; area: string; relay: boolean }
    if (!callFrame.url) {
      const up = parent.get(id)
      const special = fnName.startsWith('(')
      const area = special || up === undefined ? fnName : `${describe(up).area} (native)`
      result = { fn: special ? fnName : `${fnName} [native]`, area, relay: false }
    } else {
      const url = trimUrl(callFrame.url, root)
      const area = areaOf(url)
      // Line numbers of tsx-compiled sources are not the source's: those show the file only.
      const where = url.startsWith('node:') ? url : url.replace(/^.*node_modules\//, '')
      result = {
        fn: `${fnName} ${where}${callFrame.lineNumber > 0 ? `:${callFrame.lineNumber + 1}` : ''}`,
        area,
        relay: area.startsWith('relay-server/src/'),
      }
    }
    names.set(id, result)
    return result
  }

  const self = new Map<string, number>()
  const areas = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  let idle = 0
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  for (let i = 0; i < samples.length; i++) {
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000
    const id = samples[i]!
    const top = describe(id)
    total += ms
    if (top.fn === '(idle)') {
      idle += ms
      continue
    }
    self.set(top.fn, (self.get(top.fn) ?? 0) + ms)
    areas.set(top.area, (areas.get(top.area) ?? 0) + ms)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = describe(at)
      if (frame.relay && !seen.has(frame.fn)) {
        seen.add(frame.fn)
        inclusive.set(frame.fn, (inclusive.get(frame.fn) ?? 0) + ms)
      }
    }
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, ms]) => ({ name, ms }))
  return {
    totalMs: total,
    busyMs: total - idle,
    areas: top(areas, 12),
    selfTop: top(self, 15),
    relayInclusive: top(inclusive, 12),
  }
}
