import { MAX_VOICE_DURATION_MS } from '@parley/shared/limits'
import { analyse, recordingType } from './audio'

/** A stopped recording, waiting to be sent or discarded: played back from its own blob: URL. */
export interface Recording {
  blob: Blob
  url: string
  type: string
  durationMs: number
  waveform: number[]
}

export type RecorderPhase = 'idle' | 'starting' | 'recording' | 'analysing' | 'preview'

/** Why the microphone could not be used: denied (by the user or the system) or absent. */
export type MicrophoneProblem = 'denied' | 'absent' | 'failed'

/** How often the level is sampled while recording (also the fallback waveform's resolution). */
const LEVEL_MS = 50

/**
 * One composer's voice recorder: asks for the microphone, records (Opus where the browser can),
 * shows a running time and a live level, stops by itself at the longest a voice message may be,
 * and hands over a stopped recording with its length and waveform for a preview. Cancelling keeps
 * nothing; a stopped recording stays until it is sent or discarded.
 */
export class VoiceRecorder {
  #phase = $state<RecorderPhase>('idle')
  #elapsedMs = $state(0)
  #level = $state(0)
  #problem = $state<{ kind: MicrophoneProblem; detail: string } | null>(null)
  #recording = $state<Recording | null>(null)
  #stream: MediaStream | null = null
  #recorder: MediaRecorder | null = null
  #audio: AudioContext | null = null
  #timer: ReturnType<typeof setInterval> | undefined
  #startedAt = 0
  #levels: number[] = []
  #chunks: Blob[] = []
  /** Bumped by cancel: a start still asking for the microphone then stops at once. */
  #generation = 0
  readonly maxMs: number

  constructor(options: { maxMs?: number } = {}) {
    this.maxMs = options.maxMs ?? MAX_VOICE_DURATION_MS
  }

  get phase(): RecorderPhase {
    return this.#phase
  }
  get elapsedMs(): number {
    return this.#elapsedMs
  }
  /** 0..1, the loudness right now. */
  get level(): number {
    return this.#level
  }
  get problem(): { kind: MicrophoneProblem; detail: string } | null {
    return this.#problem
  }
  get recording(): Recording | null {
    return this.#recording
  }
  get busy(): boolean {
    return this.#phase !== 'idle'
  }

  dismissProblem(): void {
    this.#problem = null
  }

  async start(): Promise<void> {
    if (this.#phase !== 'idle') return
    this.#problem = null
    this.#phase = 'starting'
    const generation = ++this.#generation
    let stream: MediaStream
    try {
      if (!navigator.mediaDevices?.getUserMedia) throw new DOMException('No media devices', 'NotFoundError')
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false })
    } catch (error) {
      if (generation === this.#generation) {
        this.#phase = 'idle'
        this.#problem = describe(error)
      }
      return
    }
    if (generation !== this.#generation) {
      for (const track of stream.getTracks()) track.stop()
      return
    }
    this.#stream = stream
    const type = recordingType()
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined)
    this.#recorder = recorder
    this.#chunks = []
    this.#levels = []
    recorder.ondataavailable = (event) => {
      if (event.data.size > 0) this.#chunks.push(event.data)
    }
    this.#watchLevel(stream)
    recorder.start(250)
    this.#startedAt = performance.now()
    this.#elapsedMs = 0
    this.#phase = 'recording'
    this.#timer = setInterval(() => this.#tick(), LEVEL_MS)
  }

  /** Stops and keeps the recording for a preview (its length and waveform computed here, once). */
  async stop(): Promise<void> {
    const recorder = this.#recorder
    if (this.#phase !== 'recording' || !recorder) return
    const timedMs = performance.now() - this.#startedAt
    this.#phase = 'analysing'
    const stopped = new Promise<void>((resolve) => {
      recorder.onstop = () => resolve()
    })
    recorder.stop()
    await stopped
    const type = (recorder.mimeType || this.#chunks[0]?.type || 'audio/webm').toLowerCase()
    const blob = new Blob(this.#chunks, { type })
    const levels = this.#levels
    this.#release()
    const { durationMs, waveform } = await analyse(blob, { durationMs: timedMs, levels })
    this.#recording = { blob, url: URL.createObjectURL(blob), type, durationMs, waveform }
    this.#phase = 'preview'
  }

  /** Stops recording and keeps nothing (Escape, or the cancel button). */
  cancel(): void {
    this.#generation++
    if (this.#recorder && this.#recorder.state !== 'inactive') {
      this.#recorder.onstop = null
      this.#recorder.stop()
    }
    this.#release()
    this.discard()
  }

  /** The preview's recording is dropped (Discard, or it was sent). */
  discard(): void {
    if (this.#recording) URL.revokeObjectURL(this.#recording.url)
    this.#recording = null
    this.#phase = 'idle'
  }

  /** The component went away: nothing keeps the microphone. */
  dispose(): void {
    this.cancel()
  }

  #tick(): void {
    this.#elapsedMs = performance.now() - this.#startedAt
    this.#levels.push(this.#level)
    // The longest a voice message may be: stopped here, and kept for the preview.
    if (this.#elapsedMs >= this.maxMs) void this.stop()
  }

  #watchLevel(stream: MediaStream): void {
    try {
      const audio = new AudioContext()
      const analyser = audio.createAnalyser()
      analyser.fftSize = 1024
      audio.createMediaStreamSource(stream).connect(analyser)
      const samples = new Float32Array(analyser.fftSize)
      this.#audio = audio
      const read = () => {
        if (this.#audio !== audio) return
        analyser.getFloatTimeDomainData(samples)
        let peak = 0
        for (const v of samples) peak = Math.max(peak, Math.abs(v))
        // Roughly how loud it sounds: a little boost so speech moves the meter well.
        this.#level = Math.min(1, Math.sqrt(peak) * 1.2)
        requestAnimationFrame(read)
      }
      requestAnimationFrame(read)
    } catch {
      this.#level = 0
    }
  }

  #release(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    for (const track of this.#stream?.getTracks() ?? []) track.stop()
    this.#stream = null
    this.#recorder = null
    void this.#audio?.close().catch(() => undefined)
    this.#audio = null
    this.#level = 0
  }
}

function describe(error: unknown): { kind: MicrophoneProblem; detail: string } {
  const name = error instanceof DOMException || error instanceof Error ? error.name : ''
  const detail = error instanceof Error ? error.message : String(error)
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError')
    return { kind: 'denied', detail }
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError')
    return { kind: 'absent', detail }
  return { kind: 'failed', detail }
}
