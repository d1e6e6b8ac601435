/**
 * Every error the relay returns, with its HTTP status and what it means. docs/API.md lists these;
 * a test checks the list there against this table.
 */
export const errorCodes = {
  validation_failed: { status: 400, meaning: 'The body, query or payload does not match the schema.' },
  invalid_json: { status: 400, meaning: 'The body is not valid JSON.' },
  cannot_contact_self: { status: 400, meaning: 'You cannot add or message yourself.' },
  unauthorized: { status: 401, meaning: 'No token, or an unknown, revoked or expired one.' },
  invalid_credentials: { status: 401, meaning: 'Unknown username or wrong password.' },
  forbidden: { status: 403, meaning: 'You may not do this to that resource.' },
  registration_closed: { status: 403, meaning: 'This relay does not take new accounts; ask its operator.' },
  invite_required: {
    status: 403,
    meaning: 'Registering here needs a valid invite code (unknown, used-up and expired codes count as none).',
  },
  account_deactivated: { status: 403, meaning: "The relay's operator deactivated this account." },
  contact_required: {
    status: 403,
    meaning: 'Messages, typing and receipts need an accepted contact on both sides.',
  },
  not_message_sender: { status: 403, meaning: 'Only the sender may edit or delete a message.' },
  not_group_admin: { status: 403, meaning: "Only the group's owner and admins may do this." },
  not_found: { status: 404, meaning: 'No such route.' },
  group_not_found: { status: 404, meaning: 'No such group, or not one you are in.' },
  invite_not_found: {
    status: 404,
    meaning: 'No such group invite code (unknown, revoked, expired and used-up codes alike).',
  },
  user_not_found: { status: 404, meaning: 'No such user.' },
  contact_not_found: { status: 404, meaning: 'No contact relationship with that user.' },
  message_not_found: { status: 404, meaning: 'No such message, or not one you can see.' },
  image_not_found: { status: 404, meaning: 'No such image, or not one you may see or use.' },
  file_not_found: { status: 404, meaning: 'No such file, or not one you may download or attach.' },
  reply_not_found: {
    status: 404,
    meaning: 'The message replied to is not one of this conversation that you can see.',
  },
  session_not_found: { status: 404, meaning: 'No such session of yours.' },
  username_taken: { status: 409, meaning: 'Another account has that username.' },
  already_contacts: { status: 409, meaning: 'A contact or request with that user exists already.' },
  contact_blocked: { status: 409, meaning: 'You blocked that user; remove the block first.' },
  invalid_transition: { status: 409, meaning: 'That contact status change is not possible from here.' },
  group_full: { status: 409, meaning: 'The group has as many members as the relay allows.' },
  message_deleted: { status: 409, meaning: 'The message was deleted and can no longer change.' },
  client_id_conflict: {
    status: 409,
    meaning: 'That clientId was already used for a different message.',
  },
  cursor_expired: {
    status: 410,
    meaning:
      'Your cursor is older than the oldest feed event the relay keeps (FEED_RETENTION_DAYS): read GET /sync/snapshot and continue from its cursor.',
  },
  wrong_host: {
    status: 421,
    meaning: "The Host header names another site than the relay's public address (PUBLIC_URL).",
  },
  payload_too_large: { status: 413, meaning: 'The body is larger than the route accepts.' },
  unsupported_media_type: { status: 415, meaning: 'The Content-Type is not one the route accepts.' },
  unsupported_image: {
    status: 415,
    meaning: 'The file is not a PNG, JPEG, GIF or WebP image (judged by its bytes, not its name).',
  },
  invalid_image: { status: 400, meaning: 'The image is damaged or cut short and cannot be decoded.' },
  image_dimensions_too_large: {
    status: 400,
    meaning: 'The image has more pixels than the relay decodes (a decompression bomb, or simply huge).',
  },
  image_too_large: { status: 413, meaning: 'The file is larger than the 10 MB upload limit.' },
  file_too_large: {
    status: 413,
    meaning: 'The file is larger than the relay takes (MAX_FILE_BYTES; GET /health states it).',
  },
  quota_exceeded: {
    status: 413,
    meaning:
      "The upload would take your stored pictures and files beyond the relay's per-user quota (USER_QUOTA_BYTES).",
  },
  range_not_satisfiable: { status: 416, meaning: 'The Range asked for lies outside the file.' },
  too_many_uploads: {
    status: 429,
    meaning: 'You have the most uploads in progress at once that the relay takes; wait for one to finish.',
  },
  export_in_progress: {
    status: 429,
    meaning: 'An export of your account is still being written; wait for it to finish.',
  },
  rate_limited: { status: 429, meaning: 'Too many requests; retry after the time given.' },
  internal_error: { status: 500, meaning: 'A fault on the relay; details are in its log.' },
  shutting_down: { status: 503, meaning: 'The relay is shutting down; retry on another or later.' },
} as const satisfies Record<string, { status: number; meaning: string }>

export type ErrorCode = keyof typeof errorCodes

export interface ApiError {
  code: ErrorCode
  message: string
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCodes, value)
}
