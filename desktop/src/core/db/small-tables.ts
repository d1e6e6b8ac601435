import { type DraftView, defaultSettings, type ProfileView, Settings, validate } from '@parley/shared'
import type { LocalDb } from './local-db'
import type { AccountRow } from './schema'

export function account(db: LocalDb): AccountRow | undefined {
  return db.get(db.kysely.selectFrom('account').selectAll().where('id', '=', 1))
}

export function saveAccount(
  db: LocalDb,
  input: {
    user: Omit<ProfileView, 'avatarImageId'> & { avatarImageId?: string | null }
    relayUrl: string
    token: string
    expiresAt: number
  },
): void {
  const { user } = input
  db.prepare(
    `insert into account (id, user_id, username, first_name, last_name, email, created_at, relay_url, token,
       token_expires_at, avatar_image_id) values (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (id) do update set username = excluded.username, first_name = excluded.first_name,
       last_name = excluded.last_name, email = excluded.email, relay_url = excluded.relay_url,
       token = excluded.token, token_expires_at = excluded.token_expires_at,
       avatar_image_id = excluded.avatar_image_id
     where account.user_id = excluded.user_id`,
  ).run(
    user.id,
    user.username,
    user.firstName,
    user.lastName,
    user.email,
    user.createdAt,
    input.relayUrl,
    input.token,
    input.expiresAt,
    user.avatarImageId ?? null,
  )
}

export function updateProfile(db: LocalDb, user: ProfileView): void {
  db.prepare(
    'update account set username = ?, first_name = ?, last_name = ?, email = ?, avatar_image_id = ? where id = 1',
  ).run(user.username, user.firstName, user.lastName, user.email, user.avatarImageId)
}

export function clearToken(db: LocalDb): void {
  db.prepare('update account set token = null, token_expires_at = null where id = 1').run()
}

export function setTokenExpiry(db: LocalDb, expiresAt: number): void {
  db.prepare('update account set token_expires_at = ? where id = 1').run(expiresAt)
}

export function profileOf(row: AccountRow): ProfileView {
  return {
    id: row.user_id,
    username: row.username,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    avatarImageId: row.avatar_image_id,
    createdAt: row.created_at,
  }
}

export function cursorOf(db: LocalDb): number {
  return db.prepare('select cursor from sync_state where id = 1').pluck().get() as number
}

export function draftOf(db: LocalDb, peerId: number): DraftView | null {
  const row = db.get(
    db.kysely.selectFrom('drafts').select(['text', 'updated_at']).where('peer_id', '=', peerId),
  )
  return row ? { text: row.text, updatedAt: row.updated_at } : null
}

export function setDraft(db: LocalDb, peerId: number, text: string, now: number): void {
  if (text === '') {
    db.run(db.kysely.deleteFrom('drafts').where('peer_id', '=', peerId))
    return
  }
  db.prepare(
    `insert into drafts (peer_id, text, updated_at) values (?, ?, ?)
     on conflict (peer_id) do update set text = excluded.text, updated_at = excluded.updated_at`,
  ).run(peerId, text, now)
}

/** Stored settings over the defaults; a value a newer or older build wrote that no longer fits is ignored. */
export function settingsOf(db: LocalDb): Settings {
  const merged: Record<string, unknown> = { ...defaultSettings }
  for (const row of db.all(db.kysely.selectFrom('settings').selectAll())) {
    if (!Object.hasOwn(defaultSettings, row.key)) continue
    const candidate = { ...merged, [row.key]: JSON.parse(row.value) as unknown }
    if (validate(Settings, candidate).ok) merged[row.key] = candidate[row.key]
  }
  return merged as Settings
}

export function saveSettings(db: LocalDb, changes: Partial<Settings>): Settings {
  db.transaction(() => {
    const upsert = db.prepare(
      'insert into settings (key, value) values (?, ?) on conflict (key) do update set value = excluded.value',
    )
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) upsert.run(key, JSON.stringify(value))
    }
  })
  return settingsOf(db)
}
