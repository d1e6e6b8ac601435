import type { ProfileView, SessionView } from '@parley/shared'
import type { AccountRow } from '../schema'

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

/** The session the account row holds; null when signed out. */
export function sessionOf(row: AccountRow | undefined): SessionView | null {
  if (!row?.token) return null
  return { user: profileOf(row), relayUrl: row.relay_url, expiresAt: row.token_expires_at }
}
