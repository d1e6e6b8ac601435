import type { Migration } from 'kysely'
import * as m0001 from './0001-initial'
import * as m0002 from './0002-media'
import * as m0003 from './0003-client-id-index'
import * as m0004 from './0004-contact-since'
import * as m0005 from './0005-conversation-keys'
import * as m0006 from './0006-groups'
import * as m0007 from './0007-group-end'
import * as m0008 from './0008-rich-messages'
import * as m0009 from './0009-receipt-times'
import * as m0010 from './0010-voice-played'
import * as m0011 from './0011-backfill'

/** Ordered and imported statically: bundlers and Electron's asar cannot list a folder. */
export const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-media': m0002,
  '0003-client-id-index': m0003,
  '0004-contact-since': m0004,
  '0005-conversation-keys': m0005,
  '0006-groups': m0006,
  '0007-group-end': m0007,
  '0008-rich-messages': m0008,
  '0009-receipt-times': m0009,
  '0010-voice-played': m0010,
  '0011-backfill': m0011,
}
