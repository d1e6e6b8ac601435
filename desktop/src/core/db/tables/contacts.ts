import type { Contact, Presence } from '@parley/shared'
import type { LocalDb } from '../local-db'
import { upsertUser } from './users'

// The `contacts` table: one row per person the account has a contact relation with, and their
// live presence (null while unknown).

// A snapshot older than what is stored (a REST answer racing the feed) does not win.
const UPSERT_CONTACT = `
  insert into contacts (user_id, status, created_at, updated_at, accepted_at)
  values ($userId, $status, $createdAt, $updatedAt, $acceptedAt)
  on conflict (user_id) do update set status = excluded.status, created_at = excluded.created_at,
    updated_at = excluded.updated_at, accepted_at = excluded.accepted_at,
    presence_status = iif(excluded.status = 'accepted', presence_status, null),
    last_seen = iif(excluded.status = 'accepted', last_seen, null)
  where excluded.updated_at >= contacts.updated_at`

/** A contact snapshot (the feed's or a REST answer's; the other brings the same again): its user too. */
export function upsertContact(db: LocalDb, contact: Contact): void {
  upsertUser(db, contact.user)
  db.prepare(UPSERT_CONTACT).run({
    userId: contact.user.id,
    status: contact.status,
    createdAt: contact.createdAt,
    updatedAt: contact.updatedAt,
    acceptedAt: contact.acceptedAt,
  })
}

export function deleteContact(db: LocalDb, userId: number): void {
  db.prepare('delete from contacts where user_id = ?').run(userId)
}

/** Contacts with their users, by username (for the views). */
export function contactRows(db: LocalDb) {
  return db.all(
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
}

/** Returns whether anything changed (presence repeats are common and are not news). */
export function setPresence(db: LocalDb, userId: number, presence: Presence | null): boolean {
  const result = db
    .prepare(
      `update contacts set presence_status = $status, last_seen = $lastSeen
       where user_id = $userId and (presence_status is not $status or last_seen is not $lastSeen)`,
    )
    .run({ userId, status: presence?.status ?? null, lastSeen: presence?.lastSeen ?? null })
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
