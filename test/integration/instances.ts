import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { buildApp, type App } from '../../src/app.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { generateSigningJwk, loadSigningKeys } from '../../src/modules/auth/auth.keys.js';
import { systemClock } from '../../src/shared/clock.js';
import { createRedisStore, type KeyValueStore } from '../../src/shared/kv-store.js';
import { MemorySms } from '../../src/shared/sms.js';
import { createTestDatabase, testConfig } from '../helpers/app.js';

export interface Instance {
  app: App;
  database: Database;
  kv: KeyValueStore;
  sms: MemorySms;
}

/**
 * Several API instances as production runs them: one PostgreSQL database,
 * one Redis (same key prefix), the same signing keys and OTP secret, each
 * with its own connection pool and Redis client.
 */
export interface InstanceOptions {
  /** Maps the real database URL to the one the API connects to (e.g. through a cuttable proxy). */
  connectDatabaseVia?: (url: string) => string;
  redisUrl?: string;
}

export async function startInstances(count: number, env: Record<string, string> = {}, options: InstanceOptions = {}) {
  const connectVia = options.connectDatabaseVia ?? ((url: string) => url);
  const testDb = await createTestDatabase();
  const prefix = `bima-it:${randomBytes(6).toString('hex')}:`;
  const keys = await loadSigningKeys([await generateSigningJwk()]);
  const config = testConfig({ DATABASE_URL: testDb.url, OTP_SECRET: randomBytes(24).toString('hex'), ...env });
  const migrator = createDatabase(testDb.url);
  await migrateToLatest(migrator.db);
  await migrator.close();
  const instances: Instance[] = [];
  for (let i = 0; i < count; i++) {
    const database = createDatabase(connectVia(testDb.url), { poolMax: 5 });
    const kv = createRedisStore(options.redisUrl ?? process.env.TEST_REDIS_URL!, prefix);
    await kv.connect();
    const sms = new MemorySms();
    const app = await buildApp(config, { database, kv, sms, clock: systemClock, keys, log: pino({ level: 'silent' }) });
    await app.ready();
    instances.push({ app, database, kv, sms });
  }
  const direct = createDatabase(testDb.url, { poolMax: 2 });
  return {
    instances,
    /** A connection that bypasses connectVia, for checking what reached the database. */
    direct: direct.db,
    async stop() {
      for (const { app, database, kv } of instances) {
        await app.close();
        await database.close();
        await kv.close();
      }
      await direct.close();
      await testDb.drop();
    },
  };
}
