import type { FastifyInstance, FastifyRequest } from 'fastify'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible'
import { AppError } from '../errors'

/**
 * An onRequest hook (after the token check) that lets each user make `points` requests per
 * `seconds`, counted on every relay when Redis is configured (each relay counts alone if Redis
 * fails, rather than refusing everyone). Per user, not per address: the point is that one account
 * cannot walk the user list or spam requests however many addresses it uses.
 */
export function perUserLimit(
  app: FastifyInstance,
  options: { name: string; points: number; seconds: number; redisKeyPrefix: string; what: string },
): (request: FastifyRequest) => Promise<void> {
  const { points, seconds: duration } = options
  const limiter = app.redis
    ? new RateLimiterRedis({
        storeClient: app.redis,
        keyPrefix: `${options.redisKeyPrefix}:${options.name}`,
        points,
        duration,
        insuranceLimiter: new RateLimiterMemory({ points, duration }),
      })
    : new RateLimiterMemory({ points, duration })
  return async (request) => {
    const userId = request.principal?.userId
    if (userId === undefined) return
    try {
      await limiter.consume(String(userId))
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal
      const wait = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000))
      throw new AppError('rate_limited', `Too many ${options.what}; try again in ${wait} s`, {
        retryAfterSeconds: wait,
      })
    }
  }
}
