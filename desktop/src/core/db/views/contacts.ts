import type { ContactView, UserView } from '@parley/shared'
import type { LocalDb } from '../local-db'
import type { UserRow } from '../schema'
import { contactRows } from '../tables/contacts'
import { userRow } from '../tables/users'

// `toUserView` is the desktop's one mapping of its `users` row to a view. The relay's
// repositories/users.ts maps its own `users` table the same way (duplicates pairs the two): they
// are two databases' rows, each free to change with its own migrations, and shared/ holds no
// database code, so each side keeps its own.

/** The one mapping of a `users` row to its view. */
export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    username: row.username,
    firstName: row.first_name,
    lastName: row.last_name,
    avatarImageId: row.avatar_image_id,
    createdAt: row.created_at,
  }
}

export function userView(db: LocalDb, id: number): UserView | null {
  const row = userRow(db, id)
  return row ? toUserView(row) : null
}

export function contactViews(db: LocalDb): ContactView[] {
  return contactRows(db).map((row) => ({
    user: toUserView({ ...row, id: row.user_id, created_at: row.user_created_at }),
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
