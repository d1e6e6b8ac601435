import argon2 from 'argon2'

/** OWASP's argon2id baseline: 19 MiB, two passes, one lane. */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
} as const

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS)
}

let decoy: Promise<string> | undefined

/**
 * Checks a password. For an unknown user pass `null`: a decoy hash is verified instead so the
 * answer takes as long as for a real account and does not reveal which usernames exist.
 */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (hash === null) {
    decoy ??= hashPassword('decoy password that matches nothing')
    await argon2.verify(await decoy, password)
    return false
  }
  try {
    return await argon2.verify(hash, password)
  } catch {
    return false
  }
}
