import {
  type BridgeEvent,
  type BridgeEventPayload,
  defaultSettings,
  type Result,
  type Settings,
} from '@parley/shared'

export interface SettingsSource {
  invoke(method: 'settings.get', params: Record<string, never>): Promise<Result<unknown>>
  on<E extends BridgeEvent>(event: E, listener: (payload: BridgeEventPayload<E>) => void): () => void
}

/**
 * The shell's copy of the signed-in account's settings (close to tray, start at login,
 * notifications). Settings live in the account's database, so they change with `settings.changed`
 * and also when an account signs in or out (`session.changed`: read them again).
 */
export class SettingsWatch {
  #current: Settings = { ...defaultSettings }
  #generation = 0
  readonly #source: SettingsSource
  readonly #onChange: (next: Settings, previous: Settings) => void
  readonly #unsubscribe: Array<() => void>

  constructor(source: SettingsSource, onChange: (next: Settings, previous: Settings) => void) {
    this.#source = source
    this.#onChange = onChange
    this.#unsubscribe = [
      source.on('settings.changed', (settings) => {
        this.#generation += 1
        this.#set(settings)
      }),
      source.on('session.changed', () => void this.refresh()),
    ]
  }

  get current(): Settings {
    return this.#current
  }

  async refresh(): Promise<Settings> {
    const generation = ++this.#generation
    const result = await this.#source.invoke('settings.get', {})
    // A settings.changed that arrived meanwhile is newer than this answer.
    if (result.ok && generation === this.#generation) this.#set(result.value as Settings)
    return this.#current
  }

  dispose(): void {
    for (const off of this.#unsubscribe) off()
  }

  #set(next: Settings): void {
    const previous = this.#current
    this.#current = next
    this.#onChange(next, previous)
  }
}
