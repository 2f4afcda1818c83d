import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/database.js';
import { AppError } from '../shared/errors.js';
import type { KeyValueStore } from '../shared/kv-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics;
  }
}

export interface AppMetrics {
  registry: Registry;
  authOutcomes: Counter<'event' | 'method' | 'outcome'>;
  rateLimitHits: Counter<'scope'>;
  pageCacheLookups: Counter<'cache' | 'outcome'>;
  dbQueryDuration: Histogram<'kind'>;
}

/**
 * Prometheus metrics on a registry of this app's own (so two apps in one test
 * process never collide). Route labels use the route pattern, never the raw
 * URL, to keep cardinality bounded.
 */
/** The statement's verb (select, insert, with, begin, …): a bounded label set. */
export function statementKind(sql: string): string {
  const verb = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toLowerCase() ?? 'other';
  return ['select', 'insert', 'update', 'delete', 'with', 'begin', 'commit', 'rollback', 'savepoint', 'release'].includes(verb) ? verb : 'other';
}

export interface MetricsOptions {
  database: Database;
  kv: KeyValueStore;
  /** METRICS_TOKEN: when set, /metrics wants it as a bearer token. */
  token?: string;
}

/** Compares digests, so neither the token's length nor its first differing byte shows in the time taken. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(header ?? ''), digest(`Bearer ${token}`));
}

export default fp(
  async function metricsPlugin(app: FastifyInstance, opts: MetricsOptions) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const metrics: AppMetrics = {
      registry,
      authOutcomes: new Counter({ name: 'auth_events_total', help: 'Authentication events by kind, method and outcome.', labelNames: ['event', 'method', 'outcome'], registers: [registry] }),
      rateLimitHits: new Counter({ name: 'rate_limit_hits_total', help: 'Requests refused by a rate limit.', labelNames: ['scope'], registers: [registry] }),
      pageCacheLookups: new Counter({
        name: 'page_cache_lookups_total',
        help: 'Cached-page lookups by cache and outcome: hit (served), stale (rendered again: its rows changed), miss (rendered: not kept).',
        labelNames: ['cache', 'outcome'],
        registers: [registry],
      }),
      dbQueryDuration: new Histogram({
        name: 'db_query_duration_seconds',
        help: 'Database query time.',
        labelNames: ['kind'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        registers: [registry],
      }),
    };
    const redisTrips = new Histogram({
      name: 'redis_round_trip_seconds',
      help: 'Redis round trips by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1],
      registers: [registry],
    });
    opts.database.queryObserver = (event) => metrics.dbQueryDuration.observe({ kind: event.level === 'error' ? 'error' : statementKind(event.query.sql) }, event.queryDurationMillis / 1000);
    opts.kv.observer = (operation, seconds, ok) => redisTrips.observe({ operation, outcome: ok ? 'ok' : 'error' }, seconds);
    const poolStats = opts.database.poolStats;
    const pool = (name: string, help: string, pick: (s: ReturnType<typeof poolStats>) => number) =>
      new Gauge({ name, help, registers: [registry], collect() { this.set(pick(poolStats())); } });
    pool('db_queries_in_flight', 'Database queries sent and not yet answered (pipelined over the pool).', (s) => s.inFlight);
    pool('db_transactions_open', 'Transactions holding a database connection of their own.', (s) => s.transactions);
    pool('db_pool_waiting_requests', 'Transactions waiting for a database connection.', (s) => s.waiting);
    app.decorate('metrics', metrics);

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      duration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true }, config: { rateLimit: false }, logLevel: 'warn' }, async (request, reply) => {
      if (opts.token !== undefined && !bearerMatches(request.headers.authorization, opts.token)) {
        throw new AppError('UNAUTHENTICATED', 401, 'Send the metrics token as Authorization: Bearer.', { headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  },
  { name: 'metrics' },
);
