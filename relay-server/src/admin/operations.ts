import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { Email, Password, PersonName, Username, validate } from '@parley/shared'
import { type Kysely, sql } from 'kysely'
import type { Dialect } from '../db/connect'
import type { AuditRow, Database, InviteRow, UserRow } from '../db/schema'
import { isUniqueViolation } from '../errors'
import { FileBlobStore } from '../images/blob-store'
import { randomAlphanumeric } from '../random'
import * as invites from '../repositories/invites'
import * as users from '../repositories/users'
import { Committer } from '../services/committer'
import { type EraseSummary, eraseAccount } from '../services/erase'
import { FileService } from '../services/files'
import { GroupService } from '../services/groups'
import { ImageService } from '../services/images'
import { hashPassword } from '../services/passwords'
import type { Realtime } from '../services/realtime'
import { UploadGate } from '../services/uploads'
import {
  BackupError,
  type BackupReport,
  backupIsSound,
  type CheckReport,
  checkSqliteBackup,
  takeSqliteBackup,
} from './backup'

/** A refusal the admin command reports in one line and exits 1 for. */
export class AdminError extends Error {}

export interface AdminContext {
  db: Kysely<Database>
  dialect: Dialect
  dataDir: string
  /** Who is acting, for the audit log: the operating-system user, or "cli". */
  actor: string
  now: () => number
}

const DURATION = /^(\d{1,6})([mhdw])$/
const UNIT_MS = { m: 60_000, h: 3600_000, d: 86_400_000, w: 7 * 86_400_000 } as const

/** `30m`, `12h`, `7d`, `2w` in milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim())
  if (!match) throw new AdminError(`'${text}' is not a duration such as 30m, 12h, 7d or 2w`)
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
  if (ms <= 0) throw new AdminError('A duration must be longer than zero')
  return ms
}

export { randomAlphanumeric }

export function generatePassword(): string {
  return randomAlphanumeric(24)
}

async function audit(ctx: AdminContext, action: string, detail: Record<string, unknown>): Promise<void> {
  await ctx.db
    .insertInto('audit_log')
    .values({ at: ctx.now(), actor: ctx.actor, action, detail: JSON.stringify(detail) })
    .execute()
}

function check<T>(what: string, result: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!result.ok) throw new AdminError(`${what}: ${result.message.replace(/^payload ?/, '')}`)
  return result.value
}

async function userNamed(ctx: AdminContext, username: string): Promise<UserRow> {
  const row = await users.findUserByUsername(ctx.db, username)
  if (!row) throw new AdminError(`No user is called '${username}'`)
  return row
}

export async function createInvite(
  ctx: AdminContext,
  options: { uses: number; expiresInMs: number | null },
): Promise<InviteRow> {
  if (!Number.isInteger(options.uses) || options.uses < 1 || options.uses > 100_000) {
    throw new AdminError('--uses must be a whole number from 1 to 100000')
  }
  const now = ctx.now()
  const row = await invites.insertInvite(ctx.db, {
    code: randomAlphanumeric(22),
    max_uses: options.uses,
    expires_at: options.expiresInMs === null ? null : now + options.expiresInMs,
    created_by: ctx.actor,
    created_at: now,
  })
  await audit(ctx, 'invite.create', { code: row.code, uses: row.max_uses, expiresAt: row.expires_at })
  return row
}

export function listInvites(ctx: AdminContext): Promise<InviteRow[]> {
  return invites.listInvites(ctx.db)
}

export async function revokeInvite(ctx: AdminContext, code: string): Promise<void> {
  if (!(await invites.revokeInvite(ctx.db, code, ctx.now()))) {
    throw new AdminError(`No invite '${code}' that is not revoked already`)
  }
  await audit(ctx, 'invite.revoke', { code })
}

export async function createUser(
  ctx: AdminContext,
  fields: { username: string; password: string; firstName: string; lastName: string; email: string },
): Promise<UserRow> {
  const username = check('username', validate(Username, fields.username))
  const password = check('password', validate(Password, fields.password))
  const firstName = check('--first-name', validate(PersonName, fields.firstName)).trim()
  const lastName = check('--last-name', validate(PersonName, fields.lastName)).trim()
  const email = check('--email', validate(Email, fields.email))
  if (await users.findUserByUsername(ctx.db, username)) {
    throw new AdminError(`The username '${username}' is taken`)
  }
  const now = ctx.now()
  let row: UserRow
  try {
    row = await users.insertUser(ctx.db, {
      username,
      username_key: username.toLowerCase(),
      password_hash: await hashPassword(password),
      first_name: firstName,
      last_name: lastName,
      email,
      last_seen_at: null,
      created_at: now,
      updated_at: now,
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw new AdminError(`The username '${username}' is taken`)
    throw error
  }
  await audit(ctx, 'user.create', { userId: row.id, username })
  return row
}

/** Deletes every session of the user; how many there were. */
async function signOutEverywhere(db: Kysely<Database>, userId: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows)
}

export async function resetPassword(ctx: AdminContext, username: string, password: string): Promise<number> {
  const row = await userNamed(ctx, username)
  check('password', validate(Password, password))
  const hash = await hashPassword(password)
  const ended = await ctx.db.transaction().execute(async (trx) => {
    await users.setPasswordHash(trx, row.id, hash, ctx.now())
    return signOutEverywhere(trx, row.id)
  })
  await audit(ctx, 'user.reset_password', { userId: row.id, username: row.username, sessionsEnded: ended })
  return ended
}

export async function listUsers(ctx: AdminContext, prefix: string | undefined): Promise<UserRow[]> {
  if (prefix === undefined) {
    return ctx.db.selectFrom('users').selectAll().orderBy('username_key').execute()
  }
  return users.searchUsersByPrefix(ctx.db, prefix, 10_000, { includeErased: true })
}

export async function makeAdmin(ctx: AdminContext, username: string): Promise<void> {
  const row = await userNamed(ctx, username)
  await ctx.db.updateTable('users').set({ is_admin: 1 }).where('id', '=', row.id).execute()
  await audit(ctx, 'user.make_admin', { userId: row.id, username: row.username })
}

/** Refuses the account's sign-ins from now on and ends all its sessions; sessions ended. */
export async function deactivateUser(ctx: AdminContext, username: string): Promise<number> {
  const row = await userNamed(ctx, username)
  if (row.deactivated_at !== null) throw new AdminError(`'${row.username}' is deactivated already`)
  const ended = await ctx.db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ deactivated_at: ctx.now() }).where('id', '=', row.id).execute()
    return signOutEverywhere(trx, row.id)
  })
  await audit(ctx, 'user.deactivate', { userId: row.id, username: row.username, sessionsEnded: ended })
  return ended
}

export interface Stats {
  users: number
  deactivatedUsers: number
  sessions: number
  messages: number
  images: number
  groups: number
  /** Uploaded files the relay keeps (rows; several may share one stored blob). */
  files: number
  databaseBytes: number
  imageBytes: number
  /** What DATA_DIR/files holds on disk (file blobs, and uploads still arriving). */
  fileBytes: number
}

async function folderBytes(folder: string): Promise<number> {
  let total = 0
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(folder, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const entry of entries) {
    const full = path.join(folder, entry.name)
    if (entry.isDirectory()) total += await folderBytes(full)
    else if (entry.isFile()) total += (await stat(full)).size
  }
  return total
}

async function databaseBytes(ctx: AdminContext): Promise<number> {
  if (ctx.dialect === 'postgres') {
    const { rows } = await sql<{
      bytes: number | string
    }>`select pg_database_size(current_database()) as bytes`.execute(ctx.db)
    return Number(rows[0]?.bytes ?? 0)
  }
  let total = 0
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += (await stat(path.join(ctx.dataDir, `relay.sqlite${suffix}`))).size
    } catch {
      // No WAL file while nothing has been written since the last checkpoint.
    }
  }
  return total
}

export async function stats(ctx: AdminContext): Promise<Stats> {
  const { db } = ctx
  const n = async (query: Promise<{ n: number | string }>) => Number((await query).n)
  const countAll = <T extends 'users' | 'sessions' | 'messages' | 'images' | 'groups' | 'files'>(table: T) =>
    db.selectFrom(table as 'users').select((eb) => eb.fn.countAll<number | string>().as('n'))
  return {
    users: await n(countAll('users').executeTakeFirstOrThrow()),
    deactivatedUsers: await n(
      countAll('users').where('deactivated_at', 'is not', null).executeTakeFirstOrThrow(),
    ),
    sessions: await n(
      db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('expires_at', '>', ctx.now())
        .executeTakeFirstOrThrow(),
    ),
    messages: await n(countAll('messages').executeTakeFirstOrThrow()),
    images: await n(countAll('images').executeTakeFirstOrThrow()),
    groups: await n(countAll('groups').executeTakeFirstOrThrow()),
    files: await n(countAll('files').executeTakeFirstOrThrow()),
    databaseBytes: await databaseBytes(ctx),
    imageBytes: await folderBytes(path.join(ctx.dataDir, 'images')),
    fileBytes: await folderBytes(path.join(ctx.dataDir, 'files')),
  }
}

export async function auditLog(ctx: AdminContext, limit: number): Promise<AuditRow[]> {
  const rows = await ctx.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit).execute()
  return rows.reverse()
}

/**
 * Erases the account as `DELETE /users/me` does (services/erase.ts), from outside the relay: a
 * running relay cuts the user's sockets at its next session sweep, and peers learn of the
 * tombstones and removed contacts from their feeds. Running it again finishes an interrupted one.
 */
export async function eraseUser(ctx: AdminContext, username: string): Promise<EraseSummary> {
  const row = await userNamed(ctx, username)
  // This process's own committer: feed seqs are allocated in the database, so the relay's and
  // this one's writes interleave safely.
  const committer = new Committer(ctx.db, { onCommitted: () => undefined, clock: ctx.now })
  const gate = new UploadGate({ db: ctx.db })
  const images = new ImageService({
    db: ctx.db,
    store: new FileBlobStore(path.join(ctx.dataDir, 'images')),
    clock: ctx.now,
    gate,
  })
  // Only `collect` is used: the grace period and size limit play no part in an erasure.
  const files = new FileService({
    db: ctx.db,
    store: new FileBlobStore(path.join(ctx.dataDir, 'files')),
    gate,
    clock: ctx.now,
    graceMs: 0,
    maxFileBytes: 0,
  })
  // Members online hear of the group changes from their group's log when they next catch up.
  const groups = new GroupService({
    db: ctx.db,
    committer,
    realtime: offline,
    images,
    maxMembers: 0,
    clock: ctx.now,
  })
  try {
    const summary = await eraseAccount({ db: ctx.db, committer, images, files, groups }, row.id)
    await audit(ctx, 'user.erase', { userId: row.id, username: row.username, ...summary })
    return summary
  } finally {
    groups.close()
    await committer.close()
  }
}

/** The live layer of a process with no sockets: what would go live is in the feeds and logs. */
const offline: Realtime = {
  toUsers: () => undefined,
  toGroup: () => undefined,
  joinGroup: () => undefined,
  leaveGroup: () => undefined,
  publishFeed: () => undefined,
  liveStatuses: async () => new Map(),
  disconnectSession: () => undefined,
}

const PG_DUMP_ADVICE =
  'This relay keeps its data in PostgreSQL: back it up with pg_dump (pg_dump --format=custom --file=parley.dump "$DATABASE_URL"), and copy DATA_DIR/images and DATA_DIR/files beside it; docs/SELF-HOSTING.md has the steps and the restore.'

/** An online backup of the SQLite database and the pictures into the new folder `target`. */
export async function backup(ctx: AdminContext, target: string): Promise<BackupReport> {
  if (ctx.dialect === 'postgres') throw new AdminError(PG_DUMP_ADVICE)
  const folder = path.resolve(target)
  try {
    const report = await takeSqliteBackup(ctx.dataDir, folder, ctx.now())
    await audit(ctx, 'backup.create', {
      folder,
      ...report.counts,
      imageFiles: report.imageFiles,
      fileBlobs: report.fileBlobs,
    })
    return report
  } catch (error) {
    if (error instanceof BackupError) throw new AdminError(error.message)
    throw error
  }
}

/** Opens a backup folder and checks it; `sound` is false when anything is wrong with it. */
export async function checkBackup(
  ctx: AdminContext,
  target: string,
): Promise<{ report: CheckReport; sound: boolean }> {
  if (ctx.dialect === 'postgres') {
    throw new AdminError(
      `${PG_DUMP_ADVICE} To check a dump, restore it into a scratch database (pg_restore --list parley.dump lists what it holds).`,
    )
  }
  const folder = path.resolve(target)
  try {
    const report = await checkSqliteBackup(folder)
    const sound = backupIsSound(report)
    await audit(ctx, 'backup.check', {
      folder,
      sound,
      ...report.counts,
      missingImages: report.missingImages.length,
      missingFiles: report.missingFiles.length,
    })
    return { report, sound }
  } catch (error) {
    if (error instanceof BackupError) throw new AdminError(error.message)
    throw error
  }
}
