import { userInfo } from 'node:os'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../config'
import { migrateToLatest, openDatabase } from '../db/connect'
import type { InviteRow } from '../db/schema'
import * as admin from './operations'

const USAGE = `usage: parley-relay admin <command>

  invite create [--uses N] [--expires 7d]   a registration code (printed alone on the last line)
  invite list                               every invite, with its uses and state
  invite revoke CODE
  user create USERNAME [--first-name F] [--last-name L] [--email E] [--password-stdin]
  user reset-password USERNAME [--password-stdin]   also signs out all the user's sessions
  user list [--q PREFIX]
  user make-admin USERNAME
  user deactivate USERNAME                  signs out everywhere and refuses sign-in
  user erase USERNAME                       wipes the profile, deletes messages, contacts and pictures
  stats                                     users, sessions, messages, groups, files, storage
  backup FOLDER                             an online copy of the database and pictures (SQLite)
  backup check FOLDER                       opens a backup: integrity_check, counts, pictures
  audit [--limit N]                         what operators did, oldest first

Reads the relay's settings (DATA_DIR, DATABASE_URL) from the environment, like the relay.
Without --password-stdin a password is generated and printed alone on the last line.`

class UsageError extends Error {}

function actor(): string {
  try {
    return userInfo().username || 'cli'
  } catch {
    // No passwd entry for this uid (a container, say).
    return 'cli'
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  // One line: a trailing newline from `echo` or a file is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

function when(at: number | null): string {
  return at === null ? 'never' : new Date(at).toISOString()
}

function inviteState(row: InviteRow, now: number): string {
  if (row.revoked_at !== null) return 'revoked'
  if (row.used >= row.max_uses) return 'used up'
  if (row.expires_at !== null && row.expires_at <= now) return 'expired'
  return 'active'
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

function one(positionals: string[], what: string): string {
  const [value, ...rest] = positionals
  if (value === undefined || rest.length > 0) throw new UsageError(`expected exactly one ${what}`)
  return value
}

async function run(ctx: admin.AdminContext, args: string[]): Promise<void> {
  const [group, action, ...rest] = args
  const out = (line: string) => process.stdout.write(`${line}\n`)
  // `stats`, `audit` and `backup FOLDER` are one word; `backup check FOLDER` is two.
  const oneWord = group === 'stats' || group === 'audit' || (group === 'backup' && action !== 'check')
  const command = oneWord ? group : `${group} ${action}`
  const tail = oneWord ? [action, ...rest].filter((a) => a !== undefined) : rest
  const parse = (options: Record<string, { type: 'string' | 'boolean' }>) =>
    parseArgs({ args: tail, options, allowPositionals: true, strict: true })

  switch (command) {
    case 'invite create': {
      const { values, positionals } = parse({ uses: { type: 'string' }, expires: { type: 'string' } })
      if (positionals.length > 0) throw new UsageError('invite create takes no arguments')
      const uses = values.uses === undefined ? 1 : Number(values.uses)
      const expires = values.expires === undefined ? null : admin.parseDuration(String(values.expires))
      const row = await admin.createInvite(ctx, { uses, expiresInMs: expires })
      out(`invite for ${row.max_uses} registration(s), expires ${when(row.expires_at)}:`)
      out(row.code)
      return
    }
    case 'invite list': {
      parse({})
      const now = ctx.now()
      for (const row of await admin.listInvites(ctx)) {
        out(
          `${row.code}  ${row.used}/${row.max_uses} used  expires ${when(row.expires_at)}  ${inviteState(row, now)}  by ${row.created_by}`,
        )
      }
      return
    }
    case 'invite revoke': {
      const code = one(parse({}).positionals, 'invite code')
      await admin.revokeInvite(ctx, code)
      out(`revoked ${code}`)
      return
    }
    case 'user create': {
      const { values, positionals } = parse({
        'first-name': { type: 'string' },
        'last-name': { type: 'string' },
        email: { type: 'string' },
        'password-stdin': { type: 'boolean' },
      })
      const username = one(positionals, 'USERNAME')
      const generated = values['password-stdin'] !== true
      const password = generated ? admin.generatePassword() : await readStdin()
      const row = await admin.createUser(ctx, {
        username,
        password,
        firstName: String(values['first-name'] ?? username),
        lastName: String(values['last-name'] ?? username),
        // `.invalid` never resolves (RFC 2606): an honest "no address" that still passes the schema.
        email: String(values.email ?? `${username.toLowerCase()}@users.invalid`),
      })
      out(`created ${row.username} (id ${row.id})`)
      if (generated) out(password)
      return
    }
    case 'user reset-password': {
      const { values, positionals } = parse({ 'password-stdin': { type: 'boolean' } })
      const username = one(positionals, 'USERNAME')
      const generated = values['password-stdin'] !== true
      const password = generated ? admin.generatePassword() : await readStdin()
      const ended = await admin.resetPassword(ctx, username, password)
      out(`password of ${username} reset; ${ended} session(s) signed out`)
      if (generated) out(password)
      return
    }
    case 'user list': {
      const { values, positionals } = parse({ q: { type: 'string' } })
      if (positionals.length > 0) throw new UsageError('user list takes no arguments (search with --q)')
      for (const row of await admin.listUsers(ctx, values.q === undefined ? undefined : String(values.q))) {
        const state = row.erased_at !== null ? 'erased' : row.deactivated_at !== null ? 'deactivated' : ''
        const flags = [row.is_admin ? 'admin' : '', state].filter(Boolean).join(',')
        out(
          `${row.id}\t${row.username}\t${row.first_name} ${row.last_name}\t${row.email}\tsince ${when(row.created_at)}${flags ? `\t${flags}` : ''}`,
        )
      }
      return
    }
    case 'user make-admin': {
      const username = one(parse({}).positionals, 'USERNAME')
      await admin.makeAdmin(ctx, username)
      out(`${username} is an admin`)
      return
    }
    case 'user deactivate': {
      const username = one(parse({}).positionals, 'USERNAME')
      const ended = await admin.deactivateUser(ctx, username)
      out(`${username} deactivated; ${ended} session(s) signed out`)
      return
    }
    case 'user erase': {
      const username = one(parse({}).positionals, 'USERNAME')
      const s = await admin.eraseUser(ctx, username)
      out(
        `${username} erased: ${s.sessionsEnded} session(s) signed out, ${s.messagesDeleted} message(s) deleted, ` +
          `${s.contactsRemoved} contact entr(ies) removed, ${s.reactionsRemoved} reaction(s) removed, ` +
          `${s.groupsLeft} group(s) left, ${s.invitesRevoked} group invite(s) revoked, ` +
          `${s.picturesCollected} picture(s) deleted`,
      )
      return
    }
    case 'stats': {
      parse({})
      const s = await admin.stats(ctx)
      out(`users      ${s.users} (${s.deactivatedUsers} deactivated)`)
      out(`sessions   ${s.sessions}`)
      out(`messages   ${s.messages}`)
      out(`images     ${s.images}`)
      out(`groups     ${s.groups}`)
      out(`files      ${s.files}`)
      out(`database   ${mebibytes(s.databaseBytes)}`)
      out(`pictures   ${mebibytes(s.imageBytes)}`)
      out(`file data  ${mebibytes(s.fileBytes)}`)
      return
    }
    case 'backup': {
      const folder = one(parse({}).positionals, 'FOLDER')
      const r = await admin.backup(ctx, folder)
      out(
        `backup written to ${folder}: database ${mebibytes(r.databaseBytes)}, ${r.imageFiles} picture file(s), ${r.fileBlobs} stored file(s)`,
      )
      out(
        `users ${r.counts.users}, messages ${r.counts.messages}, images ${r.counts.images}, feed events ${r.counts.feedEvents}`,
      )
      return
    }
    case 'backup check': {
      const folder = one(parse({}).positionals, 'FOLDER')
      const { report: r, sound } = await admin.checkBackup(ctx, folder)
      out(`integrity  ${r.integrity.slice(0, 10).join('; ')}`)
      out(`foreign keys  ${r.foreignKeyProblems === 0 ? 'ok' : `${r.foreignKeyProblems} problem(s)`}`)
      out(`schema     ${r.latestMigration ?? 'unknown'}`)
      out(
        `users ${r.counts.users}, sessions ${r.counts.sessions}, contacts ${r.counts.contacts}, messages ${r.counts.messages}, images ${r.counts.images}, feed events ${r.counts.feedEvents}`,
      )
      out(`pictures   ${r.imageFiles} file(s), ${r.missingImages.length} missing`)
      out(`files      ${r.fileBlobs} stored, ${r.missingFiles.length} missing`)
      if (!sound) throw new admin.AdminError(`the backup in ${folder} is NOT sound`)
      out('the backup is sound')
      return
    }
    case 'audit': {
      const { values } = parse({ limit: { type: 'string' } })
      const limit = values.limit === undefined ? 100 : Number(values.limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
        throw new UsageError('--limit must be a whole number from 1 to 100000')
      }
      for (const row of await admin.auditLog(ctx, limit)) {
        out(`${when(row.at)}\t${row.actor}\t${row.action}\t${row.detail}`)
      }
      return
    }
    default:
      throw new UsageError(`unknown command '${args.join(' ')}'`)
  }
}

/** `parley-relay admin ...`: `args` are the words after `admin`; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args.length === 0 || args[0] === 'help' || args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`)
    return args.length === 0 ? 2 : 0
  }
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`parley-relay admin: ${error.message}\n`)
      return 2
    }
    throw error
  }
  const handle = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir })
  try {
    await migrateToLatest(handle.db, handle.dialect)
    await run(
      { db: handle.db, dialect: handle.dialect, dataDir: config.dataDir, actor: actor(), now: Date.now },
      args,
    )
    return 0
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`parley-relay admin: ${(error as Error).message}\n\n${USAGE}\n`)
      return 2
    }
    if (error instanceof admin.AdminError) {
      process.stderr.write(`parley-relay admin: ${error.message}\n`)
      return 1
    }
    throw error
  } finally {
    await handle.db.destroy()
  }
}
