import { readFileSync } from 'node:fs'
import path from 'node:path'
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config.js'
import { DebugLogger } from 'builder-util'
import type { Configuration } from 'electron-builder'
import { describe, expect, it } from 'vitest'
import { RENDERER_URL } from '../../src/main/app-protocol'

/**
 * electron-builder.yml as electron-builder itself reads and validates it (its schema refuses a
 * misspelt fuse), so the fuses checked here are the ones `npm run dist` flips. app-builder-lib and
 * builder-util are electron-builder's own parts, imported as it installed them.
 */
const repo = path.resolve(import.meta.dirname, '../../..')

async function packagingConfig(): Promise<Configuration> {
  const config = await getConfig(repo, path.join(repo, 'electron-builder.yml'), null)
  await validateConfiguration(config, new DebugLogger(false))
  return config
}

describe('packaging', () => {
  it('the packaged binary has every security fuse set: no Node mode, no inspector, only its checked asar, no file:// privileges', async () => {
    const { electronFuses } = await packagingConfig()
    expect(electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    })
    // What makes the last one safe to turn off: the renderer is never a file:// page.
    expect(RENDERER_URL).toMatch(/^app:\/\//)
  })

  it('on macOS the app may ask for the microphone (voice messages): the entitlement and the sentence macOS shows', async () => {
    const { mac } = await packagingConfig()
    expect(mac?.extendInfo).toMatchObject({
      NSMicrophoneUsageDescription: expect.stringMatching(/voice messages/),
    })
    const entitlements = readFileSync(path.join(repo, mac?.entitlements as string), 'utf8')
    expect(entitlements).toMatch(/<key>com\.apple\.security\.device\.audio-input<\/key>\s*<true\/>/)
    expect(entitlements).not.toMatch(/device\.camera/)
  })

  it('a misspelt fuse would not pass unnoticed', async () => {
    const config = await packagingConfig()
    const misspelt = {
      ...config,
      electronFuses: { ...config.electronFuses, grantFileProtocolExtraPrivilege: false },
    } as Configuration
    await expect(validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(/electronFuses/)
  })
})
