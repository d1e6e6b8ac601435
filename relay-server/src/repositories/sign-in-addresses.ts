import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'

type Db = Kysely<Database>

/** Whether the user signed in successfully from `address` (an address key) since `since`. */
export async function isKnownSignInAddress(
  db: Db,
  userId: number,
  address: string,
  since: number,
): Promise<boolean> {
  const row = await db
    .selectFrom('sign_in_addresses')
    .select('user_id')
    .where('user_id', '=', userId)
    .where('address', '=', address)
    .where('last_at', '>=', since)
    .executeTakeFirst()
  return row !== undefined
}

/** Records a successful sign-in from `address`, and forgets the user's addresses unused since `forgetBefore`. */
export async function rememberSignInAddress(
  db: Db,
  userId: number,
  address: string,
  at: number,
  forgetBefore: number,
): Promise<void> {
  await db
    .insertInto('sign_in_addresses')
    .values({ user_id: userId, address, last_at: at })
    .onConflict((oc) => oc.columns(['user_id', 'address']).doUpdateSet({ last_at: at }))
    .execute()
  await db
    .deleteFrom('sign_in_addresses')
    .where('user_id', '=', userId)
    .where('last_at', '<', forgetBefore)
    .execute()
}
