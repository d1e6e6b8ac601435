import type { OwnUser, PatchUserBody, PublicUser } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema'
import { AppError } from '../errors'
import { hasRelationship, ownersOfContact } from '../repositories/contacts'
import { shareGroup } from '../repositories/groups'
import { findUploadedImage } from '../repositories/images'
import * as users from '../repositories/users'
import type { Committer } from './committer'
import type { ImageService } from './images'

/** The shortest query `GET /users` treats as a prefix. */
export const MIN_PREFIX_LENGTH = 3

export class UserService {
  readonly #db: Kysely<Database>
  readonly #committer: Committer

  readonly #images: ImageService

  constructor(deps: { db: Kysely<Database>; committer: Committer; images: ImageService }) {
    this.#db = deps.db
    this.#committer = deps.committer
    this.#images = deps.images
  }

  /**
   * Your own profile, or that of someone you have a relationship with (a contact entry on either
   * side, in any state: a request, a contact, a block), or who is in a group with you. Anyone else
   * is as unknown as a missing id,
   * so counting through ids reveals nobody.
   */
  async profile(viewerId: number, id: number): Promise<OwnUser | PublicUser> {
    const row = await users.findUserById(this.#db, id)
    const visible =
      id === viewerId ||
      (await hasRelationship(this.#db, viewerId, id)) ||
      (await shareGroup(this.#db, viewerId, id))
    if (!row || !visible) {
      throw new AppError('user_not_found', `No user with id ${id}`)
    }
    return id === viewerId ? users.toOwnUser(row) : users.toPublicUser(row)
  }

  /**
   * A query of three characters or more is a username prefix; a shorter one must be a whole
   * username, so nobody can list everyone by trying each letter.
   */
  async search(q: string, limit: number): Promise<PublicUser[]> {
    if ([...q].length < MIN_PREFIX_LENGTH) {
      const row = await users.findUserByUsername(this.#db, q)
      return row && row.erased_at === null ? [users.toPublicUser(row)] : []
    }
    return (await users.searchUsersByPrefix(this.#db, q, limit)).map(users.toPublicUser)
  }

  /** Changes the caller's own profile and tells every device of theirs and everyone who lists them. */
  async patch(viewerId: number, id: number, body: PatchUserBody): Promise<OwnUser> {
    if (id !== viewerId) throw new AppError('forbidden', 'You can only change your own profile')
    const avatar = body.avatarImageId
    if (avatar) {
      if (!(await findUploadedImage(this.#db, id, avatar))) {
        throw new AppError('image_not_found', 'Use an image you uploaded yourself as your picture')
      }
      await this.#images.prepareAvatar(avatar)
    }
    const { value } = await this.#committer.run(async ({ trx, now, append }) => {
      const row = await users.updateProfile(
        trx,
        id,
        {
          ...(body.firstName !== undefined && { first_name: body.firstName.trim() }),
          ...(body.lastName !== undefined && { last_name: body.lastName.trim() }),
          ...(body.email !== undefined && { email: body.email }),
          ...(avatar !== undefined && { avatar_image_id: avatar }),
        },
        now,
      )
      const own = users.toOwnUser(row)
      append(id, 'user_updated', own)
      const visible = users.toPublicUser(row)
      for (const ownerId of await ownersOfContact(trx, id)) append(ownerId, 'user_updated', visible)
      return own
    })
    return value
  }
}
