import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config'

describe('relay configuration', () => {
  it('has defaults that run on one machine with nothing else installed', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      databaseUrl: undefined,
      redisUrl: undefined,
    })
    expect(config.dataDir).toBe(path.resolve('./data'))
  })

  it('refuses settings that make no sense, naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT must be a whole number/)
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/)
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/)
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/)
    expect(() => loadConfig({ SESSION_TTL_DAYS: '0' })).toThrow(/SESSION_TTL_DAYS/)
  })

  it('the upload quota is USER_QUOTA_BYTES, or UPLOAD_QUOTA_MB as before, never both; files have a cap', () => {
    const uploads = (env: Record<string, string>) => loadConfig(env).uploads
    expect(uploads({})).toMatchObject({ quotaBytes: 1024 * 1024 * 1024, maxFileBytes: 100 * 1024 * 1024 })
    expect(uploads({ USER_QUOTA_BYTES: '5000' }).quotaBytes).toBe(5000)
    expect(uploads({ UPLOAD_QUOTA_MB: '2' }).quotaBytes).toBe(2 * 1024 * 1024)
    expect(uploads({ USER_QUOTA_BYTES: '0' }).quotaBytes).toBeNull()
    expect(uploads({ UPLOAD_QUOTA_MB: '0' }).quotaBytes).toBeNull()
    expect(uploads({ MAX_FILE_BYTES: '1048576' }).maxFileBytes).toBe(1048576)
    expect(() => loadConfig({ USER_QUOTA_BYTES: '1', UPLOAD_QUOTA_MB: '1' })).toThrow(/not both/)
    expect(() => loadConfig({ USER_QUOTA_BYTES: '-1' })).toThrow(/USER_QUOTA_BYTES/)
    expect(() => loadConfig({ MAX_FILE_BYTES: '0' })).toThrow(/MAX_FILE_BYTES/)
  })

  it('TRUST_PROXY takes a hop count or the proxies\' addresses, never "trust everyone"', () => {
    expect(loadConfig({}).trustProxy).toBe(false)
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false)
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1)
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8, loopback' }).trustProxy).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'loopback',
    ])
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY=true would let any client/)
    expect(() => loadConfig({ TRUST_PROXY: 'yes please' })).toThrow(/TRUST_PROXY must be/)
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/99' })).toThrow(/TRUST_PROXY must be/)
    expect(() => loadConfig({ TRUST_PROXY: '50' })).toThrow(/TRUST_PROXY must be/)
  })

  it('CORS is off unless origins are listed; PUBLIC_URL is an http(s) address', () => {
    expect(loadConfig({}).corsOrigins).toEqual([])
    expect(loadConfig({}).publicUrl).toBeUndefined()
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/)
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS/)
    expect(() => loadConfig({ CORS_ORIGINS: 'a.example' })).toThrow(/CORS_ORIGINS/)
    expect(loadConfig({ PUBLIC_URL: 'https://chat.example.org' }).publicUrl).toBe('https://chat.example.org/')
    expect(() => loadConfig({ PUBLIC_URL: 'chat.example.org' })).toThrow(/PUBLIC_URL/)
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://chat.example.org' })).toThrow(/PUBLIC_URL/)
  })

  it('reads every setting from the environment', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/parley',
      DATABASE_URL: 'postgres://u@db/parley',
      REDIS_URL: 'redis://cache:6379',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      RATE_LIMIT_AUTH_PER_MINUTE: '5',
    })
    expect(config).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/var/lib/parley',
      databaseUrl: 'postgres://u@db/parley',
      redisUrl: 'redis://cache:6379',
      corsOrigins: ['https://a.example', 'https://b.example'],
    })
    expect(config.rateLimits.authPerMinute).toBe(5)
  })
})
