import type { Contact, ContactView, Presence, UserView } from '@parley/shared'
import type { LocalDb } from './local-db'

export function userView(db: LocalDb, id: number): UserView | null {
  const row = db.get(db.kysely.selectFrom('users').selectAll().where('id', '=', id))
  return row
    ? {
        id: row.id,
        username: row.username,
        firstName: row.first_name,
        lastName: row.last_name,
        avatarImageId: row.avatar_image_id,
        createdAt: row.created_at,
      }
    : null
}

export function contactViews(db: LocalDb): ContactView[] {
  const rows = db.all(
    db.kysely
      .selectFrom('contacts')
      .innerJoin('users', 'users.id', 'contacts.user_id')
      .selectAll('contacts')
      .select([
        'users.username',
        'users.first_name',
        'users.last_name',
        'users.avatar_image_id',
        'users.created_at as user_created_at',
      ])
      .orderBy('users.username'),
  )
  return rows.map((row) => ({
    user: {
      id: row.user_id,
      username: row.username,
      firstName: row.first_name,
      lastName: row.last_name,
      avatarImageId: row.avatar_image_id,
      createdAt: row.user_created_at,
    },
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    acceptedAt: row.accepted_at,
    presence: row.presence_status === null ? null : { status: row.presence_status, lastSeen: row.last_seen },
  }))
}

export function contactView(db: LocalDb, userId: number): ContactView | undefined {
  return contactViews(db).find((c) => c.user.id === userId)
}

/** A contact snapshot from a REST answer (the feed brings the same change again; it is an upsert). */
export function saveContact(db: LocalDb, contact: Contact): void {
  db.transaction(() => {
    const u = contact.user
    db.prepare(
      `insert into users (id, username, first_name, last_name, created_at, avatar_image_id)
       values (?, ?, ?, ?, ?, ?)
       on conflict (id) do update set username = excluded.username, first_name = excluded.first_name,
         last_name = excluded.last_name, avatar_image_id = excluded.avatar_image_id`,
    ).run(u.id, u.username, u.firstName, u.lastName, u.createdAt, u.avatarImageId ?? null)
    db.prepare(
      `insert into contacts (user_id, status, created_at, updated_at, accepted_at) values (?, ?, ?, ?, ?)
       on conflict (user_id) do update set status = excluded.status, created_at = excluded.created_at,
         updated_at = excluded.updated_at, accepted_at = excluded.accepted_at,
         presence_status = iif(excluded.status = 'accepted', presence_status, null),
         last_seen = iif(excluded.status = 'accepted', last_seen, null)
       where excluded.updated_at >= contacts.updated_at`,
    ).run(u.id, contact.status, contact.createdAt, contact.updatedAt, contact.acceptedAt)
  })
}

export function removeContact(db: LocalDb, userId: number): void {
  db.run(db.kysely.deleteFrom('contacts').where('user_id', '=', userId))
}

/** Returns whether anything changed (presence repeats are common and are not news). */
export function setPresence(db: LocalDb, userId: number, presence: Presence | null): boolean {
  const result = db
    .prepare(
      `update contacts set presence_status = ?, last_seen = ?
       where user_id = ? and (presence_status is not ? or last_seen is not ?)`,
    )
    .run(
      presence?.status ?? null,
      presence?.lastSeen ?? null,
      userId,
      presence?.status ?? null,
      presence?.lastSeen ?? null,
    )
  return result.changes > 0
}

/** Forgets every presence (we are not connected, so we do not know it); returns who changed. */
export function clearPresence(db: LocalDb): number[] {
  const ids = db
    .prepare('select user_id from contacts where presence_status is not null')
    .pluck()
    .all() as number[]
  if (ids.length > 0) db.prepare('update contacts set presence_status = null, last_seen = null').run()
  return ids
}
