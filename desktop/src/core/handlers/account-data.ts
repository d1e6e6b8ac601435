import type { ExportFile } from '@parley/shared'
import { collectLocalExport, localExportZip } from '../export/local-export'
import { online, refuse } from '../refusal'
import { keychainStatus } from '../store-key'
import type { Core, Handlers } from './context'

type AccountDataMethods = 'app.security' | 'export.local' | 'account.export' | 'account.delete'

/** A name for a saved file: letters, digits, dot, dash and underscore only. */
const safeName = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/**
 * How this device keeps its secrets, exports (the local store's, and the relay's copy of the
 * account), and deleting the account.
 */
export function accountDataHandlers(core: Core): Handlers<AccountDataMethods> {
  const { session } = core
  return {
    'app.security': async () => ({
      keychain: core.tokenCipher ? await keychainStatus(core.tokenCipher) : 'none',
      storeEncrypted: true,
    }),
    'export.local': async ({ conversation }): Promise<ExportFile> => {
      const account = session.signedIn()
      const data = collectLocalExport(account.db, conversation, core.clock())
      if (conversation !== undefined && data.conversations[0]?.messages.length === 0)
        refuse('not_found', 'No messages in this conversation on this device')
      const which = conversation === undefined ? 'all' : safeName(data.conversations[0]!.peer.username)
      return {
        fileName: `parley-${safeName(data.account.username)}-${which}-${day(core.clock())}.zip`,
        mime: 'application/zip',
        dataBase64: localExportZip(data).toString('base64'),
      }
    },
    'account.export': async (): Promise<ExportFile> => {
      const account = session.signedIn()
      const answer = await online(account.relayRaw('GET', '/users/me/export'))
      if (answer.status !== 200 || answer.bytes.subarray(0, 4).toString('latin1') !== 'PK\u0003\u0004')
        refuse('invalid_response', 'The relay did not answer the export with a zip file')
      return {
        fileName: `parley-${safeName(account.session?.user.username ?? 'account')}-relay-export-${day(core.clock())}.zip`,
        mime: 'application/zip',
        dataBase64: answer.bytes.toString('base64'),
      }
    },
    'account.delete': async ({ password }) => {
      const account = session.signedIn()
      const answer = await online(account.relayRaw('DELETE', '/users/me', { password }))
      if (answer.status !== 204) refuse('invalid_response', `The relay answered ${answer.status}, not 204`)
      await session.removeAccount(account)
      return null
    },
  }
}
