import { MAX_WAVEFORM_VALUES } from '@parley/shared/limits'

// Voice messages in the window: what to record in, the waveform computed once by the sender,
// and how a length reads.

/** How many loudness samples a recording's waveform has (the protocol takes up to MAX_WAVEFORM_VALUES). */
export const WAVEFORM_BARS = Math.min(64, MAX_WAVEFORM_VALUES)

/** Opus in WebM first (Chromium, Firefox), then what this browser says it records. */
const PREFERRED_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4']

/** The recording type to ask MediaRecorder for; undefined leaves it to the browser's default. */
export function recordingType(
  isTypeSupported: (type: string) => boolean = (t) => MediaRecorder.isTypeSupported(t),
): string | undefined {
  return PREFERRED_TYPES.find((type) => isTypeSupported(type))
}

/** 0:07, 1:05, 12:00: a voice message's length or where playback is. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`
}

/**
 * The loudest sample of each of `bars` equal stretches of the recording (all channels), scaled so
 * the loudest stretch is 255: quiet speech still draws, silence stays flat.
 */
export function peaks(channels: readonly Float32Array[], bars = WAVEFORM_BARS): number[] {
  const length = channels[0]?.length ?? 0
  const count = Math.max(1, Math.min(bars, length))
  const raw = new Array<number>(count).fill(0)
  for (let bar = 0; bar < count; bar++) {
    const from = Math.floor((bar * length) / count)
    const to = Math.floor(((bar + 1) * length) / count)
    let peak = 0
    for (const channel of channels)
      for (let i = from; i < to; i++) {
        const v = Math.abs(channel[i] ?? 0)
        if (v > peak) peak = v
      }
    raw[bar] = peak
  }
  const loudest = Math.max(...raw)
  // Below about -60 dB is silence, not something to scale up.
  if (loudest < 0.001) return raw.map(() => 0)
  return raw.map((v) => Math.min(255, Math.round((v / loudest) * 255)))
}

/** Levels sampled while recording, resampled to `bars` values 0..255: the waveform when decoding fails. */
export function levelsToWaveform(levels: readonly number[], bars = WAVEFORM_BARS): number[] {
  if (levels.length === 0) return [0]
  const count = Math.min(bars, levels.length)
  const out: number[] = []
  for (let bar = 0; bar < count; bar++) {
    const from = Math.floor((bar * levels.length) / count)
    const to = Math.max(from + 1, Math.floor(((bar + 1) * levels.length) / count))
    out.push(Math.round(Math.min(1, Math.max(...levels.slice(from, to))) * 255))
  }
  return out
}

/**
 * A recording's length and waveform, decoded once here (the receiver only draws it). A recording
 * that cannot be decoded keeps the length the recorder timed and the levels it saw.
 */
export async function analyse(
  blob: Blob,
  fallback: { durationMs: number; levels: readonly number[] },
): Promise<{ durationMs: number; waveform: number[] }> {
  try {
    const context = new OfflineAudioContext(1, 1, 48_000)
    const buffer = await context.decodeAudioData(await blob.arrayBuffer())
    const channels = Array.from({ length: buffer.numberOfChannels }, (_, i) => buffer.getChannelData(i))
    const durationMs = Math.round(buffer.duration * 1000)
    if (durationMs < 1) throw new Error('empty recording')
    return { durationMs, waveform: peaks(channels) }
  } catch {
    return {
      durationMs: Math.max(1, Math.round(fallback.durationMs)),
      waveform: levelsToWaveform(fallback.levels),
    }
  }
}
