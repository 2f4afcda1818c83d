import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config/config.js';
import type { Infrastructure } from './container.js';
import { createDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { resolveSigningKeys } from './modules/auth/auth.keys.js';
import { systemClock } from './shared/clock.js';
import { createMemoryStore, createRedisStore } from './shared/kv-store.js';
import { createHttpSms, createLogSms, createOutboxSms, type SmsSender } from './shared/sms.js';

function createSms(config: Config, log: FastifyBaseLogger): SmsSender {
  if (config.SMS_PROVIDER === 'outbox') return createOutboxSms(config.SMS_OUTBOX_FILE);
  if (config.SMS_PROVIDER === 'http') return createHttpSms({ url: config.SMS_HTTP_URL!, token: config.SMS_HTTP_TOKEN, timeoutMs: config.SMS_HTTP_TIMEOUT_MS, log });
  return createLogSms(log);
}

/** Connects to the real world as configured, and brings the schema up to date. */
export async function createInfrastructure(config: Config, log: FastifyBaseLogger): Promise<Infrastructure> {
  const slowMs = config.SLOW_QUERY_MS;
  const database = createDatabase(config.DATABASE_URL, {
    poolMax: config.DATABASE_POOL_MAX,
    pipelineConnections: config.DATABASE_PIPELINE_CONNECTIONS,
    prepare: config.DATABASE_PREPARED_STATEMENTS,
    onQuery: (event) => {
      // Only the statement text is logged, never its parameters (they carry personal data).
      if (event.queryDurationMillis >= slowMs) log.warn({ sql: event.query.sql, duration_ms: Math.round(event.queryDurationMillis), params: '[redacted]' }, 'slow query');
      if (event.level === 'error') log.debug({ sql: event.query.sql }, 'query failed');
    },
  });
  await migrateToLatest(database.db);
  await database.afterMigrations?.();
  const kv = config.REDIS_URL ? createRedisStore(config.REDIS_URL) : createMemoryStore();
  await kv.connect();
  const keyFile = config.NODE_ENV === 'production' ? undefined : join(config.DATA_DIR, 'jwt-keys.json');
  const keys = await resolveSigningKeys({ configured: config.JWT_PRIVATE_KEYS, keyFile });
  return { database, kv, sms: createSms(config, log), clock: systemClock, keys, log };
}
