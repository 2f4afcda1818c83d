import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import type { DB } from '../db/types.js';
import type { KeyValueStore } from '../shared/kv-store.js';

const CheckSchema = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('down')]), latency_ms: Type.Number() });
const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Object({ database: CheckSchema, redis: Type.Optional(CheckSchema) }),
});

async function probe(check: () => Promise<unknown>, timeoutMs = 1500) {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), timeoutMs)))]);
    return { status: 'ok' as const, latency_ms: Math.round(performance.now() - started) };
  } catch {
    return { status: 'down' as const, latency_ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness says the process runs; readiness says it can serve (database, and Redis when configured). */
export default fp(
  async function healthPlugin(app: FastifyInstance, opts: { db: Kysely<DB>; kv: KeyValueStore }) {
    app.get('/health/live', {
      config: { rateLimit: false },
      logLevel: 'warn',
      schema: { tags: ['operations'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
    }, async () => ({ status: 'ok' as const }));

    app.get('/health/ready', {
      config: { rateLimit: false },
      logLevel: 'warn',
      schema: { tags: ['operations'], summary: 'Readiness: database and Redis reachable', response: { 200: ReadySchema, 503: ReadySchema } },
    }, async (_request, reply) => {
      const [database, redis] = await Promise.all([
        probe(() => sql`select 1`.execute(opts.db)),
        opts.kv.kind === 'redis' ? probe(() => opts.kv.ping()) : Promise.resolve(undefined),
      ]);
      const ok = database.status === 'ok' && (!redis || redis.status === 'ok');
      if (!ok) reply.code(503).header('retry-after', '5');
      return { status: ok ? ('ok' as const) : ('unavailable' as const), checks: redis ? { database, redis } : { database } };
    });
  },
  { name: 'health' },
);
