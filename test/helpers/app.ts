import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { buildApp, type App } from '../../src/app.js';
import { createAccount, type NewAccount } from '../../src/bootstrap.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createDatabase, type Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import type { Role } from '../../src/db/types.js';
import { generateSigningJwk, loadSigningKeys, type SigningKeys } from '../../src/modules/auth/auth.keys.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createMemoryStore, createRedisStore, type KeyValueStore } from '../../src/shared/kv-store.js';
import { MemorySms } from '../../src/shared/sms.js';

export interface TestContext {
  app: App;
  config: Config;
  database: Database;
  kv: KeyValueStore;
  sms: MemorySms;
  clock: ManualClock;
  keys: SigningKeys;
  close(): Promise<void>;
}

let sharedKeys: Promise<SigningKeys> | undefined;
const testKeys = () => (sharedKeys ??= generateSigningJwk().then((jwk) => loadSigningKeys([jwk])));

/**
 * A fresh, migrated database for one test file: PGlite in memory by default,
 * or a new database on the PostgreSQL server of TEST_DATABASE_URL (dropped
 * afterwards). Each call is isolated from every other.
 */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) return { url: 'pglite://memory', drop: async () => undefined };
  const name = `bima_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  // Limits high enough that suites never trip them; rate-limit tests set their own.
  return loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: 'pglite://memory', OTP_RESEND_S: '30',
    RATE_LIMIT_MAX: '100000', AUTH_RATE_LIMIT_MAX: '100000', ...overrides,
  });
}

export async function buildTestApp(options: { env?: Record<string, string>; redis?: boolean } = {}): Promise<TestContext> {
  const testDb = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: testDb.url, ...options.env });
  const database = createDatabase(config.DATABASE_URL, { poolMax: 5 });
  await migrateToLatest(database.db);
  await database.afterMigrations?.();
  const clock = new ManualClock(new Date());
  const redisUrl = process.env.TEST_REDIS_URL;
  const kv = redisUrl && options.redis !== false
    ? createRedisStore(redisUrl, `bima-test:${randomBytes(6).toString('hex')}:`)
    : createMemoryStore(() => clock.now().getTime());
  await kv.connect();
  const sms = new MemorySms();
  const keys = await testKeys();
  const app = await buildApp(config, { database, kv, sms, clock, keys, log: pino({ level: config.LOG_LEVEL }) });
  await app.ready();
  return {
    app, config, database, kv, sms, clock, keys,
    async close() {
      await app.close();
      await database.close();
      await kv.close();
      await testDb.drop();
    },
  };
}

/** How many lookups `app` has made in one of its page caches with this outcome, as GET /metrics reports them. */
export async function pageCacheLookups(app: App, cache: 'policy_list' | 'policy_detail', outcome: 'hit' | 'miss' | 'stale'): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return Number(new RegExp(`^page_cache_lookups_total\\{cache="${cache}",outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

export const TEST_PASSWORD = 'correct horse battery staple 42';

let phoneCounter = 0;
/** A fresh valid Indian mobile number per call within a file. */
export function nextPhone(): string {
  phoneCounter += 1;
  return `+9197${String(process.pid % 1000).padStart(3, '0')}${String(phoneCounter).padStart(5, '0')}`;
}

export interface SignedIn {
  userId: string;
  phone: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  headers: { authorization: string };
}

export async function createUser(ctx: TestContext, role: Role, extra: Partial<NewAccount> = {}): Promise<{ id: string; phone: string }> {
  const phone = extra.phone ?? nextPhone();
  const id = await createAccount(ctx.database.db, ctx.app.services.hasher, ctx.clock, { fullName: `Test ${role}`, password: TEST_PASSWORD, role, ...extra, phone });
  if (!id) throw new Error(`phone taken: ${phone}`);
  return { id, phone };
}

export async function signIn(ctx: TestContext, phone: string, password = TEST_PASSWORD): Promise<SignedIn> {
  const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: phone, password } });
  if (response.statusCode !== 200) throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`);
  const body = response.json();
  return {
    userId: body.user.id,
    phone,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    sessionId: body.session_id,
    headers: { authorization: `Bearer ${body.access_token}` },
  };
}

export async function signInAs(ctx: TestContext, role: Role, extra: Partial<NewAccount> = {}): Promise<SignedIn> {
  const user = await createUser(ctx, role, extra);
  return signIn(ctx, user.phone);
}
