import type { ConversationKey, ExportFile, SecurityInfo } from '@parley/shared'
import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import { downloadBytes } from '../download'

/**
 * This device's keeping of the account (is the OS keychain there?), taking the data away
 * (exports) and deleting the account. One per window, created by main.ts.
 */
export class AccountDataState {
  readonly #bridge: Bridge
  #security = $state<SecurityInfo | null>(null)

  constructor(bridge: Bridge) {
    this.#bridge = bridge
  }

  /** How the token and the store key are kept (null until loaded). */
  get security(): SecurityInfo | null {
    return this.#security
  }

  async loadSecurity(): Promise<void> {
    this.#security = await call(this.#bridge, 'app.security', {})
  }

  /** One conversation or all of them, from this device's store, saved as a zip. */
  async exportLocal(conversation?: ConversationKey): Promise<string> {
    const file = await call(this.#bridge, 'export.local', conversation === undefined ? {} : { conversation })
    save(file)
    return file.fileName
  }

  /** Everything the relay keeps of this account (its own zip), saved. */
  async exportFromRelay(): Promise<string> {
    const file = await call(this.#bridge, 'account.export', {})
    save(file)
    return file.fileName
  }

  /** Deletes the account on the relay; the core then signs out and removes it from this device. */
  async deleteAccount(password: string): Promise<void> {
    await call(this.#bridge, 'account.delete', { password })
  }
}

function save(file: ExportFile): void {
  downloadBytes(file.dataBase64, file.mime, file.fileName)
}
