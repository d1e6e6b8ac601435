import Type from 'typebox'
import { Strict } from './common'
import { MAX_VOICE_DURATION_MS, MAX_WAVEFORM_VALUES } from './limits'

/** Files have random ids (22 letters and digits, about 131 bits): two uploads of one file are two files. */
export const FileId = Type.String({ pattern: '^[A-Za-z0-9]{22}$' })

/**
 * A file as the relay keeps it. `name` is the uploader's name for it, made safe (no path, no
 * control characters or quotes); `type` is the media type the uploader declared when it was
 * well-formed and not contradicted by the bytes, else `application/octet-stream`. Both are labels
 * for people: the relay serves every file as an `application/octet-stream` attachment.
 */
export const FileInfo = Strict({
  id: FileId,
  name: Type.String({ minLength: 1, maxLength: 255 }),
  size: Type.Integer({ minimum: 0 }),
  type: Type.String({ minLength: 3, maxLength: 127 }),
})
export type FileInfo = Type.Static<typeof FileInfo>

/** Loudness samples for drawing a voice message, computed once by the sender: 0 (silence) to 255. */
export const Waveform = Type.Array(Type.Integer({ minimum: 0, maximum: 255 }), {
  minItems: 1,
  maxItems: MAX_WAVEFORM_VALUES,
})

/** How long a voice message lasts, in milliseconds: up to 15 minutes. */
export const VoiceDuration = Type.Integer({ minimum: 1, maximum: MAX_VOICE_DURATION_MS })

/** A voice message as it is sent: a file you uploaded (the recording), its length and waveform. */
export const VoiceBody = Strict({ fileId: FileId, durationMs: VoiceDuration, waveform: Waveform })
export type VoiceBody = Type.Static<typeof VoiceBody>

/** A voice message as messages carry it. */
export const VoiceInfo = Strict({ file: FileInfo, durationMs: VoiceDuration, waveform: Waveform })
export type VoiceInfo = Type.Static<typeof VoiceInfo>

export const FileResponse = Strict({ file: FileInfo })
export type FileResponse = Type.Static<typeof FileResponse>
export const FileParams = Strict({ id: FileId })
export type FileParams = Type.Static<typeof FileParams>
