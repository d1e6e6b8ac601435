import type { Migration } from 'kysely'
import * as m0001 from './0001-initial'
import * as m0002 from './0002-images'
import * as m0003 from './0003-blocked-senders'
import * as m0004 from './0004-session-details'
import * as m0005 from './0005-registration-and-admin'
import * as m0006 from './0006-groups'
import * as m0007 from './0007-account-erase'
import * as m0008 from './0008-files-and-replies'
import * as m0009 from './0009-receipt-times'
import * as m0010 from './0010-feed-floor'

/** Ordered and imported statically: bundlers and asar archives cannot list a folder. */
export const migrations: Record<string, Migration> = {
  '0001-initial': m0001,
  '0002-images': m0002,
  '0003-blocked-senders': m0003,
  '0004-session-details': m0004,
  '0005-registration-and-admin': m0005,
  '0006-groups': m0006,
  '0007-account-erase': m0007,
  '0008-files-and-replies': m0008,
  '0009-receipt-times': m0009,
  '0010-feed-floor': m0010,
}
