// Plain numbers, with no schema library behind them: the renderer imports this module alone
// (`@parley/shared/limits`) so its bundle does not carry TypeBox and Ajv.

/** The largest picture the relay takes (upload body, before re-encoding). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024

/** A username: 3 to 32 letters, digits, dots, dashes or underscores. */
export const USERNAME_PATTERN = '^[A-Za-z0-9_.-]{3,32}$'

/** The longest message text, in characters. */
export const MAX_MESSAGE_LENGTH = 4000

/**
 * The most the message box holds (a draft): far above a message, so a long paste is kept whole and
 * can be sent as several messages; a paste beyond it is refused before anything is cut.
 */
export const MAX_DRAFT_LENGTH = 1_000_000

/** What a relay takes as one file when its operator sets nothing (MAX_FILE_BYTES); GET /health says the real figure. */
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024

/** The longest voice message, in milliseconds (15 minutes). */
export const MAX_VOICE_DURATION_MS = 15 * 60 * 1000

/** The most loudness samples a voice message's waveform carries. */
export const MAX_WAVEFORM_VALUES = 128

/** One piece of a file the app's window hands its core (`messages.stageFile`): within a bridge frame once in base64. */
export const FILE_PIECE_BYTES = 6 * 1024 * 1024
