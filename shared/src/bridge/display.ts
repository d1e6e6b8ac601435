// How the app words people and messages outside the conversation itself, for the renderer and the
// Electron shell alike. Types only from the rest of shared: the renderer imports this module on its
// own (`@parley/shared/display`), without the schema libraries.
import type { MessageView, UserView } from './views'

const PREVIEW_LENGTH = 200

/** First and last name, else the username; `fallback` when the person is unknown here. */
export function displayName(
  user: Pick<UserView, 'firstName' | 'lastName' | 'username'> | null,
  fallback = 'Unknown user',
): string {
  if (!user) return fallback
  const full = `${user.firstName} ${user.lastName}`.trim()
  return full || user.username
}

/** A notification's body: the text (or what the message is), or only that something came when previews are off. */
export function notificationBody(message: MessageView, count: number, preview: boolean): string {
  if (!preview) return count > 1 ? `${count} new messages` : 'New message'
  let text = message.text?.replace(/\s+/g, ' ').trim() ?? ''
  if (!text)
    text = message.image
      ? 'Photo'
      : message.file
        ? `File: ${message.file.name}`
        : message.voice
          ? 'Voice message'
          : message.deletedAt !== null
            ? 'Message deleted'
            : 'New message'
  else if (message.image) text = `Photo: ${text}`
  if (text.length > PREVIEW_LENGTH) text = `${text.slice(0, PREVIEW_LENGTH - 1)}…`
  return count > 1 ? `${text} (+${count - 1} more)` : text
}
