import { type ErrorCode, errorCodes } from '@parley/shared'

/** An expected failure with a code from the shared list; handlers turn it into a 4xx or an ack. */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  /** Sent as Retry-After when the answer is a refusal for now, not for good. */
  readonly retryAfterSeconds: number | undefined

  constructor(code: ErrorCode, message: string, options: { retryAfterSeconds?: number } = {}) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.status = errorCodes[code].status
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError
}

/** Unique-constraint violations from either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false
  const code = (error as { code?: unknown }).code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}
