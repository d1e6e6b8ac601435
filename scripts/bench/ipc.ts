import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Request/response over the Node IPC channel between the bench and its child processes (the
 * relay and the load workers). Each child exports the type of its handler table, so calls are
 * typed end to end. Channels use 'advanced' serialization: typed arrays cross as they are.
 */

// biome-ignore lint/suspicious/noExplicitAny: handler payloads are typed per child through Api
export type Api = Record<string, (payload: any) => unknown>

interface Request {
  id: number
  type: string
  payload: unknown
}
type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }
interface Notice {
  event: string
  data: unknown
}

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

/** Forks a TypeScript file under tsx, with its own IPC channel. */
export function forkTs(file: string, options: { env?: NodeJS.ProcessEnv; execArgv?: string[] } = {}) {
  return fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    cwd: repoRoot,
    env: options.env ?? process.env,
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

/** The parent's side of one child. */
export class Child<A extends Api> {
  readonly name: string
  readonly process: ChildProcess
  #next = 1
  #pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }
  >()
  #waiters = new Map<string, (data: unknown) => void>()
  /** Notices that came before anyone waited for them. */
  #notices = new Map<string, unknown>()
  #exited: { code: number | null; signal: NodeJS.Signals | null } | null = null

  constructor(name: string, child: ChildProcess) {
    this.name = name
    this.process = child
    child.on('message', (message: Response | Notice) => {
      if ('event' in message) {
        const waiter = this.#waiters.get(message.event)
        this.#waiters.delete(message.event)
        if (waiter) waiter(message.data)
        else this.#notices.set(message.event, message.data)
        return
      }
      const pending = this.#pending.get(message.id)
      if (!pending) return
      this.#pending.delete(message.id)
      clearTimeout(pending.timer)
      if (message.ok) pending.resolve(message.value)
      else pending.reject(new Error(`${this.name}: ${message.error}`))
    })
    child.on('exit', (code, signal) => {
      this.#exited = { code, signal }
      const error = new Error(`${this.name} exited (code ${code}, signal ${signal})`)
      for (const pending of this.#pending.values()) {
        clearTimeout(pending.timer)
        pending.reject(error)
      }
      this.#pending.clear()
    })
  }

  get exited() {
    return this.#exited !== null
  }

  /** Resolves with the data of the child's next (or an unclaimed earlier) `event` notice. */
  waitFor<T>(event: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#notices.has(event)) {
        const data = this.#notices.get(event)
        this.#notices.delete(event)
        return resolve(data as T)
      }
      if (this.#exited) return reject(new Error(`${this.name} is not running`))
      const timer = setTimeout(() => {
        this.#waiters.delete(event)
        reject(new Error(`${this.name}: no '${event}' within ${timeoutMs} ms`))
      }, timeoutMs)
      const onExit = () => {
        clearTimeout(timer)
        reject(new Error(`${this.name} exited before '${event}'`))
      }
      this.process.once('exit', onExit)
      this.#waiters.set(event, (data) => {
        clearTimeout(timer)
        this.process.off('exit', onExit)
        resolve(data as T)
      })
    })
  }

  call<K extends keyof A & string>(
    type: K,
    payload: Parameters<A[K]>[0],
    timeoutMs: number,
  ): Promise<Awaited<ReturnType<A[K]>>> {
    return new Promise((resolve, reject) => {
      if (this.#exited || !this.process.connected) return reject(new Error(`${this.name} is not running`))
      const id = this.#next++
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.name}: '${type}' took longer than ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      this.process.send({ id, type, payload } satisfies Request)
    })
  }

  /** Waits up to `ms` for the child to exit, then kills it (by its own pid). */
  async stop(ms: number): Promise<void> {
    if (this.#exited) return
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()))
    const timer = setTimeout(() => this.process.kill('SIGKILL'), ms)
    await exited
    clearTimeout(timer)
  }

  kill(): void {
    if (!this.#exited) this.process.kill('SIGKILL')
  }
}

/** The child's side: answers requests with `handlers`; exits when the parent goes away. */
export function serve(handlers: Api, onParentGone: () => void): void {
  process.on('message', async (message: Request) => {
    const handler = handlers[message.type]
    let response: Response
    try {
      if (!handler) throw new Error(`unknown request '${message.type}'`)
      response = { id: message.id, ok: true, value: await handler(message.payload) }
    } catch (error) {
      response = {
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }
    }
    if (process.connected) process.send?.(response)
  })
  process.on('disconnect', onParentGone)
}

export function notify(event: string, data: unknown): void {
  process.send?.({ event, data } satisfies Notice)
}
