import type { MessageView } from '@parley/shared'
import type { Bridge } from '../bridge'
import { call } from '../bridge/call'
import { describeError } from '../errors'
import { fetchFile } from '../managers/files'

export const SPEEDS = [1, 1.5, 2] as const
export type Speed = (typeof SPEEDS)[number]

/** Recordings kept as blob: URLs at once (the newest played or sent); older ones are fetched again. */
const KEPT = 16
const SPEED_KEY = 'parley.voiceSpeed'

/**
 * Plays voice messages, one at a time, for the whole window: starting one stops another. The
 * bytes come through the core (as a file's do) and play from a blob: URL; a recording just sent
 * from here plays from its own blob until the relay has it. Someone else's voice message is marked
 * played the first time it plays. The speed (1×, 1.5×, 2×) is one setting for all of them.
 */
export class VoicePlayer {
  readonly #bridge: Bridge
  readonly #storage: Storage | null
  #audio: HTMLAudioElement | null = null
  /** The message loaded into the player (playing or paused). */
  #current = $state<number | null>(null)
  #playing = $state(false)
  #loading = $state<number | null>(null)
  #positionMs = $state(0)
  #speed = $state<Speed>(1)
  #error = $state<{ localId: number; message: string } | null>(null)
  /** Where a message not loaded would start (it was sought before playing), by local id. */
  #positions = $state<Record<number, number>>({})
  /** blob: URLs by the relay's file id, or a just-sent recording's clientId. */
  readonly #urls = new Map<string, string>()
  #frame = 0

  constructor(bridge: Bridge, storage: Storage | null) {
    this.#bridge = bridge
    this.#storage = storage
    const stored = Number(storage?.getItem(SPEED_KEY))
    if ((SPEEDS as readonly number[]).includes(stored)) this.#speed = stored as Speed
  }

  get speed(): Speed {
    return this.#speed
  }

  isPlaying(localId: number): boolean {
    return this.#current === localId && this.#playing
  }
  isLoading(localId: number): boolean {
    return this.#loading === localId
  }
  errorOf(localId: number): string | null {
    return this.#error?.localId === localId ? this.#error.message : null
  }
  /** Where playback of a message is (or would start), in milliseconds. */
  positionOf(localId: number): number {
    return this.#current === localId ? this.#positionMs : (this.#positions[localId] ?? 0)
  }

  /** A recording sent from this window: it plays from here until the relay's copy replaces it. */
  remember(clientId: string, blob: Blob): void {
    this.#keep(clientId, URL.createObjectURL(blob))
  }

  /** 1× → 1.5× → 2× → 1×. */
  nextSpeed(): void {
    const next = SPEEDS[(SPEEDS.indexOf(this.#speed) + 1) % SPEEDS.length]!
    this.#speed = next
    if (this.#audio) this.#audio.playbackRate = next
    try {
      this.#storage?.setItem(SPEED_KEY, String(next))
    } catch {
      // Storage off: the speed holds for this window's life.
    }
  }

  async toggle(message: MessageView): Promise<void> {
    if (this.#current === message.localId && this.#audio) {
      if (this.#playing) this.#audio.pause()
      else await this.#play(message)
      return
    }
    await this.#load(message)
  }

  /** Moves playback of a message to `ms` (playing on if it was). */
  seek(message: MessageView, ms: number): void {
    const duration = message.voice?.durationMs ?? 0
    const to = Math.max(0, Math.min(ms, duration))
    if (this.#current === message.localId && this.#audio) {
      this.#audio.currentTime = to / 1000
      this.#positionMs = to
    } else {
      this.#positions = { ...this.#positions, [message.localId]: to }
    }
  }

  stop(): void {
    this.#audio?.pause()
  }

  async #load(message: MessageView): Promise<void> {
    const voice = message.voice
    if (!voice) return
    if (this.#audio && this.#current !== null) {
      // The one playing stops where it is, and starts there again later.
      this.#audio.pause()
      this.#positions = { ...this.#positions, [this.#current]: this.#audio.currentTime * 1000 }
    }
    this.#error = null
    this.#loading = message.localId
    try {
      const url = await this.#urlOf(message)
      if (this.#loading !== message.localId) return
      const audio = this.#element()
      const start = this.#positions[message.localId] ?? 0
      this.#current = message.localId
      this.#positionMs = start
      audio.src = url
      audio.playbackRate = this.#speed
      if (start > 0) audio.currentTime = start / 1000
      await this.#play(message)
    } catch (error) {
      this.#error = { localId: message.localId, message: describeError(error) }
    } finally {
      if (this.#loading === message.localId) this.#loading = null
    }
  }

  async #play(message: MessageView): Promise<void> {
    const audio = this.#element()
    audio.playbackRate = this.#speed
    await audio.play()
    if (!message.mine && message.voice && !message.voice.played) {
      // The core tells the windows, and the mark goes.
      void call(this.#bridge, 'messages.markVoicePlayed', { localId: message.localId }).catch(() => undefined)
    }
  }

  async #urlOf(message: MessageView): Promise<string> {
    const voice = message.voice!
    const kept = this.#urls.get(voice.file.id) ?? this.#urls.get(message.clientId)
    if (kept) return kept
    if (voice.file.local) throw new Error('This recording is still on its way to the relay')
    const url = URL.createObjectURL(await fetchFile(this.#bridge, voice.file))
    this.#keep(voice.file.id, url)
    return url
  }

  #keep(key: string, url: string): void {
    const old = this.#urls.get(key)
    if (old && old !== url) URL.revokeObjectURL(old)
    this.#urls.delete(key)
    this.#urls.set(key, url)
    while (this.#urls.size > KEPT) {
      const [oldest, oldUrl] = this.#urls.entries().next().value as [string, string]
      if (this.#audio?.src === oldUrl) break
      URL.revokeObjectURL(oldUrl)
      this.#urls.delete(oldest)
    }
  }

  #element(): HTMLAudioElement {
    if (this.#audio) return this.#audio
    const audio = new Audio()
    audio.preload = 'auto'
    // In the page (hidden, no controls): one element for every voice message, and one to find.
    audio.hidden = true
    audio.dataset.voicePlayer = ''
    document.body.append(audio)
    audio.addEventListener('play', () => {
      this.#playing = true
      this.#follow()
    })
    audio.addEventListener('pause', () => {
      this.#playing = false
      this.#positionMs = audio.currentTime * 1000
    })
    audio.addEventListener('ended', () => {
      this.#playing = false
      this.#positionMs = 0
      if (this.#current !== null) this.#positions = { ...this.#positions, [this.#current]: 0 }
      this.#current = null
    })
    audio.addEventListener('error', () => {
      if (this.#current !== null)
        this.#error = { localId: this.#current, message: 'This recording could not be played' }
      this.#playing = false
    })
    this.#audio = audio
    return audio
  }

  /** Follows playback smoothly (timeupdate comes only a few times a second). */
  #follow(): void {
    cancelAnimationFrame(this.#frame)
    const step = () => {
      if (!this.#audio || !this.#playing) return
      this.#positionMs = this.#audio.currentTime * 1000
      this.#frame = requestAnimationFrame(step)
    }
    this.#frame = requestAnimationFrame(step)
  }
}
