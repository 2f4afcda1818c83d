import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { AppError } from '../shared/errors.js';
import { batchedRedisStore } from './rate-limit-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'auth': the stricter limit for sign-in, registration, OTP and refresh. */
    rateLimitScope?: 'auth';
  }
}

export interface RateLimitOptions {
  max: number;
  authMax: number;
  windowS: number;
  redis: Redis | null;
  onLimited?: (scope: string) => void;
}

const scopeOf = (request: FastifyRequest) => (request.routeOptions.config.rateLimitScope === 'auth' ? 'auth' : 'general');

/**
 * Per-client limits, shared across instances through Redis when configured.
 * The client is request.ip, which Fastify derives from X-Forwarded-For only
 * for TRUSTED_PROXIES, so nobody picks their own key. Auth routes count
 * separately, against the stricter AUTH_RATE_LIMIT_MAX.
 */
export default fp(
  async function rateLimitPlugin(app: FastifyInstance, opts: RateLimitOptions) {
    await app.register(rateLimit, {
      global: true,
      timeWindow: opts.windowS * 1000,
      max: (request) => (scopeOf(request) === 'auth' ? opts.authMax : opts.max),
      keyGenerator: (request) => `${scopeOf(request)}:${request.ip}`,
      nameSpace: 'rl:',
      // The general limit is counted locally and batched to Redis; the auth limit stays exact, one round trip per request.
      ...(opts.redis ? { store: batchedRedisStore({ redis: opts.redis, exact: (key) => key.startsWith('auth:'), prefix: 'rl:' }) } : {}),
      // Redis down: general reads keep working; auth routes fail closed in the onRequest check below.
      skipOnError: true,
      enableDraftSpec: true,
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
      errorResponseBuilder: (request, context) => {
        opts.onLimited?.(scopeOf(request));
        return new AppError('RATE_LIMITED', 429, 'Too many requests; slow down.', { retryAfterS: Math.ceil(context.ttl / 1000) });
      },
    });
    if (opts.redis) {
      const redis = opts.redis;
      app.addHook('onRequest', async (request) => {
        if (scopeOf(request) === 'auth' && redis.status !== 'ready') {
          throw new AppError('SERVICE_UNAVAILABLE', 503, 'Sign-in is briefly unavailable; try again shortly.', { retryAfterS: 5 });
        }
      });
    }
  },
  { name: 'rate-limit' },
);
