import type { Migration } from 'kysely'
import * as m0001 from './0001-initial'

/** Ordered and imported statically: bundlers and Electron's asar cannot list a folder. */
export const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
}
