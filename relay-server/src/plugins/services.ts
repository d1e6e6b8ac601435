import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { RateLimits, Registration, UploadLimits } from '../config'
import { FileBlobStore } from '../images/blob-store'
import { AccountService } from '../services/account'
import { AuthService } from '../services/auth'
import { Committer } from '../services/committer'
import { ContactService } from '../services/contacts'
import { ExportService } from '../services/export'
import { FileService } from '../services/files'
import { GroupService } from '../services/groups'
import { ImageService } from '../services/images'
import { MessageService } from '../services/messages'
import { PresenceService } from '../services/presence'
import { type FailureStore, MemoryFailureStore, RedisFailureStore } from '../services/sign-in-throttle'
import { UploadGate } from '../services/uploads'
import { UserService } from '../services/users'

/** Failed sign-ins are forgotten a day after the last one. */
const SIGN_IN_FAILURE_MEMORY_MS = 24 * 3600_000

export interface Services {
  account: AccountService
  exports: ExportService
  auth: AuthService
  images: ImageService
  files: FileService
  users: UserService
  contacts: ContactService
  messages: MessageService
  groups: GroupService
  presence: PresenceService
  committer: Committer
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services
  }
}

export interface ServicesOptions {
  sessionTtlDays: number
  sessionMaxDays: number
  rateLimits: RateLimits
  redisKeyPrefix: string
  dataDir: string
  imageGraceMs: number
  groupMaxMembers: number
  registration: Registration
  erasedUsernameGraceMs: number
  uploads: UploadLimits
  clock?: () => number
}

export const services = fp(
  async (app: FastifyInstance, options: ServicesOptions) => {
    const { db, realtime } = app
    const clock = options.clock ?? Date.now
    const committer = new Committer(db, {
      clock,
      onCommitted: (events) => realtime.publishFeed(events),
      maxQueue: options.rateLimits.writeBacklog,
    })
    const throttlePolicy = {
      maxDelayMs: options.rateLimits.loginMaxDelaySeconds * 1000,
      memoryMs: SIGN_IN_FAILURE_MEMORY_MS,
    }
    const failures: FailureStore = app.redis
      ? new RedisFailureStore(app.redis, `${options.redisKeyPrefix}:sign-in-failures:`, throttlePolicy)
      : new MemoryFailureStore(throttlePolicy)
    const presence = new PresenceService({ db, committer, realtime, clock })
    const store = new FileBlobStore(path.join(options.dataDir, 'images'))
    const fileStore = new FileBlobStore(path.join(options.dataDir, 'files'))
    const gate = new UploadGate({
      db,
      quotaBytes: options.uploads.quotaBytes,
      maxUploadsPerUser: options.uploads.maxPerUser,
    })
    const images = new ImageService({
      db,
      store,
      clock,
      graceMs: options.imageGraceMs,
      decodeConcurrency: options.uploads.decodeConcurrency,
      gate,
    })
    const files = new FileService({
      db,
      store: fileStore,
      gate,
      clock,
      graceMs: options.imageGraceMs,
      maxFileBytes: options.uploads.maxFileBytes,
    })
    const auth = new AuthService({
      db,
      committer,
      realtime,
      sessionTtlDays: options.sessionTtlDays,
      sessionMaxDays: options.sessionMaxDays,
      failures,
      freeFailures: options.rateLimits.loginFreeFailures,
      freeFailuresPerAddress: options.rateLimits.loginFreeFailuresPerAddress,
      registration: options.registration,
      clock,
    })
    const groups = new GroupService({
      db,
      committer,
      realtime,
      images,
      maxMembers: options.groupMaxMembers,
      clock,
    })
    const account = new AccountService({
      db,
      committer,
      images,
      files,
      auth,
      realtime,
      groups,
      erasedUsernameGraceMs: options.erasedUsernameGraceMs,
      clock,
    })
    app.decorate('services', {
      groups,
      committer,
      presence,
      images,
      files,
      auth,
      account,
      exports: new ExportService({ db, store, fileStore, clock }),
      users: new UserService({ db, committer, images }),
      contacts: new ContactService({ db, committer, presence }),
      messages: new MessageService({ db, committer, realtime, groups }),
    })
    // Unused uploads (pictures and files) are collected hourly (and once shortly after start).
    // Erasures cut short by a stop are finished, and usernames past their grace are released.
    const collect = () =>
      images
        .collectGarbage()
        .then((removed) => removed > 0 && app.log.info({ removed }, 'unused images collected'))
        .catch((err) => app.log.warn({ err }, 'image collection failed'))
        .then(() => files.collectGarbage())
        .then((removed) => removed > 0 && app.log.info({ removed }, 'unused files collected'))
        .catch((err) => app.log.warn({ err }, 'file collection failed'))
        .then(() => account.maintain())
        .then(
          ({ resumed, released }) =>
            resumed + released > 0 && app.log.info({ resumed, released }, 'erased accounts tended'),
        )
        .catch((err) => app.log.warn({ err }, 'erased-account upkeep failed'))
    const firstCollection = setTimeout(collect, 60_000).unref()
    const collection = setInterval(collect, 60 * 60_000).unref()

    // Registered after the database plugin, so this runs before the database closes.
    app.addHook('onClose', async () => {
      clearTimeout(firstCollection)
      clearInterval(collection)
      await committer.close()
      groups.close()
    })
  },
  { name: 'services', dependencies: ['database', 'realtime'] },
)
