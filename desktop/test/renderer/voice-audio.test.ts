import { MAX_WAVEFORM_VALUES } from '@parley/shared/limits'
import { describe, expect, it } from 'vitest'
import {
  formatDuration,
  levelsToWaveform,
  peaks,
  recordingType,
  WAVEFORM_BARS,
} from '../../src/renderer/lib/voice/audio'

describe('voice messages: the waveform computed once by the sender', () => {
  it('takes the loudest sample of each stretch, over every channel, scaled so the loudest is 255', () => {
    // 8 samples, 4 bars: the second channel is louder in the last stretch.
    const left = Float32Array.from([0.1, -0.2, 0, 0, 0.5, -0.1, 0, 0.05])
    const right = Float32Array.from([0, 0, 0, 0.1, 0, 0, -1, 0])
    expect(peaks([left, right], 4)).toEqual([51, 26, 128, 255])
    expect(peaks([left], 4)).toEqual([102, 0, 255, 26])
  })

  it('silence stays flat (not scaled up from noise), and a short recording has fewer values than bars', () => {
    expect(peaks([new Float32Array(1000).fill(0.0001)], 16)).toEqual(new Array(16).fill(0))
    expect(peaks([Float32Array.from([0.5, 0.25])], 64)).toEqual([255, 128])
    expect(peaks([new Float32Array(0)], 64)).toEqual([0])
  })

  it('fits the protocol: integers 0..255, at most MAX_WAVEFORM_VALUES of them', () => {
    const noise = Float32Array.from({ length: 48_000 }, (_, i) => (Math.sin(i / 7) * (i % 5000)) / 5000)
    const waveform = peaks([noise])
    expect(waveform).toHaveLength(WAVEFORM_BARS)
    expect(WAVEFORM_BARS).toBeLessThanOrEqual(MAX_WAVEFORM_VALUES)
    expect(waveform.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true)
    expect(Math.max(...waveform)).toBe(255)
  })

  it('falls back to the levels seen while recording when the recording cannot be decoded', () => {
    expect(levelsToWaveform([])).toEqual([0])
    expect(levelsToWaveform([0, 0.5, 1, 0.25], 2)).toEqual([128, 255])
    expect(levelsToWaveform(Array.from({ length: 1000 }, (_, i) => (i % 100) / 100))).toHaveLength(
      WAVEFORM_BARS,
    )
  })
})

describe('voice messages: recording type and length', () => {
  it('asks for Opus in WebM first, then what the browser says it records, else its default', () => {
    expect(recordingType(() => true)).toBe('audio/webm;codecs=opus')
    expect(recordingType((t) => t === 'audio/ogg;codecs=opus' || t === 'audio/mp4')).toBe(
      'audio/ogg;codecs=opus',
    )
    expect(recordingType((t) => t === 'audio/mp4')).toBe('audio/mp4')
    expect(recordingType(() => false)).toBeUndefined()
  })

  it('reads as minutes and seconds', () => {
    expect(formatDuration(0)).toBe('0:00')
    expect(formatDuration(12_400)).toBe('0:12')
    expect(formatDuration(65_000)).toBe('1:05')
    expect(formatDuration(15 * 60_000)).toBe('15:00')
    expect(formatDuration(-5)).toBe('0:00')
  })
})
