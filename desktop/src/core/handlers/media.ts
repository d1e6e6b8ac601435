import { Refusal, refuse } from '../refusal'
import type { Core, Handlers } from './context'

/** Pictures, from the media cache (fetched from the relay once). */
export function mediaHandlers(core: Core): Handlers<'media.get'> {
  return {
    'media.get': async ({ imageId, size }) => {
      const result = await core.session.signedIn().image(imageId, size)
      if (!result.ok) {
        if (result.error.code === 'network') refuse('offline', result.error.message)
        throw new Refusal(result.error)
      }
      return { mime: result.value.mime, dataBase64: result.value.bytes.toString('base64') }
    },
  }
}
