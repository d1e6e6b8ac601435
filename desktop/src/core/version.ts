import packageJson from '../../package.json' with { type: 'json' }

/** The desktop app's version, from its package.json. */
export const APP_VERSION: string = packageJson.version
