import { isCleartextRemoteRelay, MAX_IMAGE_BYTES, type ProfileView } from '@parley/shared'
import { sniffImage } from '@parley/shared/sniff'
import type { Account } from '../account'
import { normalizeRelayUrl } from '../accounts'
import { online, refuse } from '../refusal'
import { ownProfile } from '../session'
import type { Core, Handlers } from './context'

type SessionMethods =
  | 'auth.register'
  | 'auth.login'
  | 'auth.logout'
  | 'auth.session'
  | 'profile.update'
  | 'profile.setAvatar'

/** Signing in and out, and the signed-in account's own profile. */
export function sessionHandlers(core: Core): Handlers<SessionMethods> {
  const { session } = core
  const relayUrlOf = (relayUrl: string, insecureRelayConfirmed: boolean | undefined) => {
    if (session.account) refuse('already_signed_in', 'Sign out first')
    const url =
      normalizeRelayUrl(relayUrl) ?? refuse('invalid_params', 'relayUrl must be a plain http(s) address')
    if (isCleartextRemoteRelay(url) && insecureRelayConfirmed !== true) {
      refuse(
        'insecure_relay',
        `${url} is a plain http:// address on another computer: your password and messages would cross the network unencrypted. Use https://, or confirm that you accept this.`,
      )
    }
    return url
  }
  const signIn = async (url: string, auth: Parameters<typeof session.signIn>[1]) => {
    const signedIn = await session.signIn(url, auth)
    core.unread.emit(signedIn.account, true)
    return signedIn.session
  }
  const profileChanged = (account: Account, relayUser: Parameters<typeof ownProfile>[0]): ProfileView => {
    const user = ownProfile(relayUser)
    account.saveProfile(user)
    core.emit('profile.changed', { user })
    return user
  }
  return {
    'auth.register': async ({ relayUrl, insecureRelayConfirmed, ...body }) => {
      const url = relayUrlOf(relayUrl, insecureRelayConfirmed)
      return signIn(url, await online(session.client(url).call('register', { body })))
    },
    'auth.login': async ({ relayUrl, insecureRelayConfirmed, ...body }) => {
      const url = relayUrlOf(relayUrl, insecureRelayConfirmed)
      const answer = await session.client(url).call('login', { body })
      // Someone with accounts on two relays needs to know which one said no.
      if (!answer.ok && answer.error.code === 'invalid_credentials') {
        refuse('invalid_credentials', `Wrong username or password for the relay at ${url}`)
      }
      return signIn(url, await online(answer))
    },
    'auth.logout': async () => {
      await session.signOut()
      return null
    },
    'auth.session': async () => session.account?.session ?? null,
    'profile.update': async (changes) => {
      const account = session.signedIn()
      return profileChanged(account, (await online(account.patchProfile(changes))).user)
    },
    'profile.setAvatar': async ({ dataBase64 }) => {
      const account = session.signedIn()
      const bytes = Buffer.from(dataBase64, 'base64')
      if (bytes.length === 0) refuse('invalid_params', 'profile.setAvatar: the picture is empty')
      if (bytes.length > MAX_IMAGE_BYTES) refuse('image_too_large', 'The file is larger than 10 MB')
      const mime =
        sniffImage(bytes).mime ??
        refuse('unsupported_image', 'The file is not a PNG, JPEG, GIF or WebP picture (judged by its bytes)')
      const { image } = await online(account.uploadImage(bytes, mime))
      return profileChanged(account, (await online(account.patchProfile({ avatarImageId: image.id }))).user)
    },
  }
}
