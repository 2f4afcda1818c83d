import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Headers for a JSON API: nothing may frame or load anything from our answers.
 * /docs gets its own, looser policy where it is served. Personal and auth data
 * is never cached (`no-store`) unless a route says otherwise.
 */
export default fp(
  async function securityHeaders(app: FastifyInstance, opts: { corsOrigins: readonly string[] }) {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      hsts: { maxAge: 31_536_000, includeSubDomains: true, preload: false },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      referrerPolicy: { policy: 'no-referrer' },
    });
    await app.register(cors, {
      origin: opts.corsOrigins.length ? [...opts.corsOrigins] : false,
      methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Idempotency-Key', 'X-Request-Id'],
      exposedHeaders: ['ETag', 'Retry-After', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Location'],
      maxAge: 600,
    });
    // Every log line of a request names its route pattern (never the raw URL, which may carry ids).
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.url) request.log = request.log.child({ route: request.routeOptions.url });
    });
    app.addHook('onSend', async (request, reply, payload) => {
      reply.header('x-request-id', String(request.id));
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      return payload;
    });
  },
  { name: 'security-headers' },
);
