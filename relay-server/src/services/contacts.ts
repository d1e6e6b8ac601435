import type { Contact, ContactStatus, ContactWithPresence } from '@parley/shared'
import type { Kysely } from 'kysely'
import type { ContactRow, Database, UserRow } from '../db/schema'
import { AppError } from '../errors'
import * as contacts from '../repositories/contacts'
import { findUserById, findUserByUsername } from '../repositories/users'
import type { Committer, WriteContext } from './committer'
import type { PresenceService } from './presence'

interface Change {
  contact: Contact
  /** Both sides are now accepted: exchange presence. */
  nowMutual?: boolean
  /** The peer may no longer see the owner's presence. */
  hideFromPeer?: boolean
}

export class ContactService {
  readonly #db: Kysely<Database>
  readonly #committer: Committer
  readonly #presence: PresenceService

  constructor(deps: { db: Kysely<Database>; committer: Committer; presence: PresenceService }) {
    this.#db = deps.db
    this.#committer = deps.committer
    this.#presence = deps.presence
  }

  async list(ownerId: number): Promise<ContactWithPresence[]> {
    const rows = await contacts.listContacts(this.#db, ownerId)
    const mutual = new Set(await contacts.mutualContactIds(this.#db, ownerId))
    const presence = await this.#presence.presenceOf([...mutual])
    return rows.map((row) => ({
      ...contacts.toContact(row, row.peer),
      presence: mutual.has(row.peer_id) ? (presence.get(row.peer_id) ?? null) : null,
    }))
  }

  /** Asks `username` to be a contact; if they had already asked, both become contacts at once. */
  async request(ownerId: number, username: string): Promise<Contact> {
    const peer = await findUserByUsername(this.#db, username)
    if (!peer || peer.erased_at !== null)
      throw new AppError('user_not_found', `No user is called '${username}'`)
    if (peer.id === ownerId) throw new AppError('cannot_contact_self', 'You cannot add yourself')
    return this.#change(ownerId, peer, async (ctx, mine, theirs) => {
      if (mine?.status === 'blocked') throw new AppError('contact_blocked', `You blocked ${peer.username}`)
      if (mine?.status === 'accepted' || mine?.status === 'outgoing') {
        throw new AppError('already_contacts', `${peer.username} is already in your contacts`)
      }
      if (mine?.status === 'incoming' || theirs?.status === 'outgoing' || theirs?.status === 'accepted') {
        return accept(ctx, ownerId, peer, mine, theirs)
      }
      const row = await write(ctx, ownerId, peer, 'outgoing', 'contact_added')
      // A user who blocked the requester never hears of the request.
      if (theirs?.status !== 'blocked')
        await write(ctx, peer.id, await self(ctx, ownerId), 'incoming', 'contact_added')
      return { contact: row }
    })
  }

  async setStatus(ownerId: number, peerId: number, status: 'accepted' | 'blocked'): Promise<Contact> {
    const peer = await findUserById(this.#db, peerId)
    if (!peer) throw new AppError('user_not_found', `No user with id ${peerId}`)
    if (peer.id === ownerId) throw new AppError('cannot_contact_self', 'You cannot be your own contact')
    return this.#change(ownerId, peer, async (ctx, mine, theirs) => {
      if (status === 'blocked') {
        if (mine?.status === 'blocked') return { contact: contacts.toContact(mine, peer) }
        const row = await write(ctx, ownerId, peer, 'blocked', mine ? 'contact_updated' : 'contact_added')
        // Blocking withdraws your own pending request to them.
        if (theirs?.status === 'incoming') await remove(ctx, peer.id, ownerId)
        // Only someone who could see your presence is told to forget it.
        return { contact: row, hideFromPeer: mine?.status === 'accepted' && theirs?.status === 'accepted' }
      }
      if (!mine) throw new AppError('contact_not_found', `${peer.username} is not in your contacts`)
      if (mine.status === 'accepted') return { contact: contacts.toContact(mine, peer) }
      if (mine.status === 'outgoing') {
        throw new AppError('invalid_transition', `Only ${peer.username} can accept your request`)
      }
      if (mine.status === 'blocked' && theirs?.status !== 'accepted' && theirs?.status !== 'outgoing') {
        throw new AppError(
          'invalid_transition',
          `${peer.username} is not your contact; remove the block instead`,
        )
      }
      return accept(ctx, ownerId, peer, mine, theirs)
    })
  }

  /** Removes a contact, declines or cancels a request, or lifts a block (their block on you stays). */
  async remove(ownerId: number, peerId: number): Promise<void> {
    const peer = await findUserById(this.#db, peerId)
    if (!peer) throw new AppError('user_not_found', `No user with id ${peerId}`)
    await this.#change(ownerId, peer, async (ctx, mine, theirs) => {
      if (!mine) throw new AppError('contact_not_found', `${peer.username} is not in your contacts`)
      await remove(ctx, ownerId, peerId)
      if (theirs && theirs.status !== 'blocked') await remove(ctx, peerId, ownerId)
      return {
        contact: contacts.toContact(mine, peer),
        hideFromPeer: mine.status === 'accepted' && theirs?.status === 'accepted',
      }
    })
  }

  async #change(
    ownerId: number,
    peer: UserRow,
    decide: (
      ctx: WriteContext,
      mine: ContactRow | undefined,
      theirs: ContactRow | undefined,
    ) => Promise<Change>,
  ): Promise<Contact> {
    const { value } = await this.#committer.run(async (ctx) => {
      const mine = await contacts.findContact(ctx.trx, ownerId, peer.id)
      const theirs = await contacts.findContact(ctx.trx, peer.id, ownerId)
      return decide(ctx, mine, theirs)
    })
    if (value.nowMutual) await this.#presence.introduce(ownerId, peer.id)
    if (value.hideFromPeer) {
      this.#presence.hideFrom(ownerId, peer.id)
      this.#presence.hideFrom(peer.id, ownerId)
    }
    return value.contact
  }
}

async function self(ctx: WriteContext, userId: number): Promise<UserRow> {
  const row = await findUserById(ctx.trx, userId)
  if (!row) throw new AppError('unauthorized', 'The account no longer exists')
  return row
}

async function write(
  ctx: WriteContext,
  ownerId: number,
  peer: UserRow,
  status: ContactStatus,
  event: 'contact_added' | 'contact_updated',
  acceptedAt?: number,
): Promise<Contact> {
  const row = await contacts.upsertContact(ctx.trx, ownerId, peer.id, status, ctx.now, acceptedAt)
  const contact = contacts.toContact(row, peer)
  ctx.append(ownerId, event, contact)
  return contact
}

async function remove(ctx: WriteContext, ownerId: number, peerId: number): Promise<void> {
  if (await contacts.deleteContact(ctx.trx, ownerId, peerId))
    ctx.append(ownerId, 'contact_removed', { userId: peerId })
}

async function accept(
  ctx: WriteContext,
  ownerId: number,
  peer: UserRow,
  mine: ContactRow | undefined,
  theirs: ContactRow | undefined,
): Promise<Change> {
  // Lifting a block on someone who still counts you as a contact resumes the contact as it was;
  // anything else starts it now, for both.
  const resumed = mine?.status === 'blocked' && theirs?.status === 'accepted'
  const since = (resumed ? mine.accepted_at : null) ?? ctx.now
  const contact = await write(
    ctx,
    ownerId,
    peer,
    'accepted',
    mine ? 'contact_updated' : 'contact_added',
    since,
  )
  if (theirs?.status === 'blocked') return { contact }
  if (theirs?.status !== 'accepted') {
    await write(
      ctx,
      peer.id,
      await self(ctx, ownerId),
      'accepted',
      theirs ? 'contact_updated' : 'contact_added',
      since,
    )
  }
  return { contact, nowMutual: true }
}
