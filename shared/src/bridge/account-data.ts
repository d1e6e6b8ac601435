import Type from 'typebox'
import { Strict } from '../protocol/common'
import { ConversationKeySchema } from './views'

/**
 * The bridge methods about this device's keeping of the account and about taking it away: how the
 * secrets are kept (`app.security`), exports (from the local store, and the relay's copy of
 * everything), and deleting the account. Spread into bridgeMethods (methods.ts).
 */

/**
 * How this device keeps the session token and the local store's key:
 * - `keychain`: sealed by the OS keychain (Electron's safeStorage);
 * - `weak`: Linux without a keyring (safeStorage's `basic_text`): sealed with a key every copy of
 *   Chromium knows, no better than the files below;
 * - `unavailable`: the keychain does not answer; kept in files only this user may read (0600);
 * - `none`: browser mode has no keychain; kept in files only this user may read (0600).
 */
export const KeychainState = Type.Union([
  Type.Literal('keychain'),
  Type.Literal('weak'),
  Type.Literal('unavailable'),
  Type.Literal('none'),
])
export type KeychainState = Type.Static<typeof KeychainState>

export const SecurityInfo = Type.Object(
  {
    keychain: KeychainState,
    /** The local store is encrypted (SQLCipher 4 format) with a key kept as `keychain` says. */
    storeEncrypted: Type.Boolean(),
  },
  { additionalProperties: false },
)
export type SecurityInfo = Type.Static<typeof SecurityInfo>

/** A file for the user to save (a download in browser mode, a save dialog in Electron). */
export const ExportFile = Type.Object(
  {
    fileName: Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9._-]+$' }),
    mime: Type.String({ minLength: 1, maxLength: 100 }),
    /** The file's bytes, base64. */
    dataBase64: Type.String(),
  },
  { additionalProperties: false },
)
export type ExportFile = Type.Static<typeof ExportFile>

const spec = <P extends Type.TSchema, R extends Type.TSchema>(params: P, result: R, summary: string) => ({
  params,
  result,
  summary,
})

export const accountDataMethods = {
  'app.security': spec(
    Strict({}),
    SecurityInfo,
    'How this device keeps the session token and the local store key (is the OS keychain there?).',
  ),
  'export.local': spec(
    Strict({ conversation: Type.Optional(ConversationKeySchema) }),
    ExportFile,
    'Export one conversation or all of them from the local store: a zip of a readable HTML page and JSON.',
  ),
  'account.export': spec(
    Strict({}),
    ExportFile,
    "The relay's copy of everything of this account (GET /users/me/export): a zip.",
  ),
  'account.delete': spec(
    Strict({ password: Type.String({ minLength: 1, maxLength: 256 }) }),
    Type.Null(),
    'Delete the account on the relay (DELETE /users/me, with the password), then sign out and remove its local store.',
  ),
} as const
