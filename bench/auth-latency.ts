/**
 * Median time of a password sign-in, a refresh and an authenticated request,
 * measured in one run, in process (app.inject: no sockets, so this is the
 * service's own work). Usage:
 *   node --import tsx bench/auth-latency.ts                 # embedded PGlite, in-process stores
 *   DATABASE_URL=postgres://… REDIS_URL=redis://… node --import tsx bench/auth-latency.ts
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { createAccount } from '../src/bootstrap.js';
import { loadConfig } from '../src/config/config.js';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { generateSigningJwk, loadSigningKeys } from '../src/modules/auth/auth.keys.js';
import { systemClock } from '../src/shared/clock.js';
import { createMemoryStore, createRedisStore } from '../src/shared/kv-store.js';
import { MemorySms } from '../src/shared/sms.js';

const ROUNDS = { login: 60, refresh: 400, read: 3000 };
const PASSWORD = 'correct horse battery staple 42';

function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { n: sorted.length, median_ms: +at(0.5).toFixed(3), p95_ms: +at(0.95).toFixed(3), p99_ms: +at(0.99).toFixed(3) };
}

async function time(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

const url = process.env.DATABASE_URL ?? 'pglite://memory';
const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: url, RATE_LIMIT_MAX: '1000000000', AUTH_RATE_LIMIT_MAX: '1000000000', LOGIN_MAX_FAILURES: '100' });
const database = createDatabase(url);
await migrateToLatest(database.db);
const kv = process.env.REDIS_URL ? createRedisStore(process.env.REDIS_URL, `bench-auth:${randomBytes(4).toString('hex')}:`) : createMemoryStore();
await kv.connect();
const app = await buildApp(config, { database, kv, sms: new MemorySms(), clock: systemClock, keys: await loadSigningKeys([await generateSigningJwk()]), log: pino({ level: 'silent' }) });
await app.ready();
const phone = `+9196${String(Date.now()).slice(-8)}`;
await createAccount(database.db, app.services.hasher, systemClock, { phone, password: PASSWORD, fullName: 'Bench User', role: 'policyholder' });
const login = () => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: phone, password: PASSWORD } });

for (let i = 0; i < 5; i++) await login();
const logins: number[] = [];
let pair = (await login()).json() as { access_token: string; refresh_token: string };
for (let i = 0; i < ROUNDS.login; i++) logins.push(await time(login));
const refreshes: number[] = [];
for (let i = 0; i < ROUNDS.refresh; i++) {
  refreshes.push(await time(async () => {
    pair = (await app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: pair.refresh_token } })).json();
  }));
}
const headers = { authorization: `Bearer ${pair.access_token}` };
const reads: number[] = [];
for (let i = 0; i < ROUNDS.read; i++) reads.push(await time(() => app.inject({ method: 'GET', url: '/api/v1/auth/me', headers })));

console.log(JSON.stringify({
  database: database.kind, store: kv.kind, node: process.version, when: new Date().toISOString(),
  login_password: summarize(logins), refresh: summarize(refreshes), authenticated_read_auth_me: summarize(reads),
}, null, 2));
await app.close();
await database.close();
await kv.close();
