import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createMemoryStore } from '../../src/shared/kv-store.js';
import { MemorySms } from '../../src/shared/sms.js';
import { buildTestApp, signInAs, type TestContext } from '../helpers/app.js';
import { createActiveAgent, createProvider } from '../helpers/factories-directory.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

const nested = (depth: number): unknown => (depth === 0 ? 1 : { a: nested(depth - 1) });

describe('input hygiene (ASVS V5, API8)', () => {
  it('refuses JSON nested past 32 levels with 422 before any handler runs', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(nested(200)) });
    expect(response.statusCode).toBe(422);
  });

  it('caps list limits at 100 and refuses unknown query parameters and sort fields', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/security-events?limit=101', headers: admin.headers })).statusCode).toBe(422);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/security-events?limit=10&admin=true', headers: admin.headers })).statusCode).toBe(422);
    expect((await ctx.app.inject({ method: 'GET', url: "/api/v1/security-events?cursor=' OR 1=1 --", headers: admin.headers })).statusCode).toBe(422);
  });

  it('refuses a forged cursor on every list with 422, never a 500, and a cursor of another order', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    const provider = await createProvider(ctx);
    const agent = await createActiveAgent(ctx, { providerIds: [provider.id] });
    const forged = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');
    const lists = ['/audit-events', '/customers', '/customers?sort=full_name', '/users/search', '/users/search?sort=full_name', '/agents', '/security-events',
      '/policies', '/providers', '/providers?sort=created_at', `/providers/${provider.id}/products`, `/providers/${provider.id}/agents`,
      `/agents/${agent.agentId}/documents`, `/agents/${agent.agentId}/commissions`];
    const cursors = [['abc'], ['abc', 'def'], [1, 2], ['2026-02-31T00:00:00Z', crypto.randomUUID()], ['2026-01-01T00:00:00Z', 'not-a-uuid'],
      ['-created_at', 'x', crypto.randomUUID()], ['full_name', 'x', 'y'], [null, null, null]];
    for (const list of lists) {
      for (const cursor of cursors) {
        const url = `/api/v1${list}${list.includes('?') ? '&' : '?'}cursor=${forged(cursor)}`;
        const response = await ctx.app.inject({ method: 'GET', url, headers: admin.headers });
        expect(response.statusCode, `${url} ${response.body}`).toBe(422);
      }
    }
    // Regions page by path, and any text is a path: only a cursor of another shape is refused.
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/regions?cursor=${forged([1, 2])}`, headers: admin.headers })).statusCode).toBe(422);
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/regions?cursor=${forged(['ZZ/'])}`, headers: admin.headers })).statusCode).toBe(200);
    // A real cursor of one order, replayed with another, would compare names with instants: refused.
    for (let i = 0; i < 3; i++) expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/customers', headers: agent.headers, payload: { full_name: `Cursor ${i}`, date_of_birth: '1990-01-01', gender: 'female', phone_number: `98765${String(43210 + i)}` } })).statusCode).toBe(201);
    const first = await ctx.app.inject({ method: 'GET', url: '/api/v1/customers?limit=1', headers: agent.headers });
    const cursor = first.json().next_cursor as string;
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/customers?limit=1&cursor=${cursor}`, headers: agent.headers })).statusCode).toBe(200);
    const other = await ctx.app.inject({ method: 'GET', url: `/api/v1/customers?limit=1&sort=full_name&cursor=${cursor}`, headers: agent.headers });
    expect(other.statusCode).toBe(422);
    expect(other.json().errors).toEqual([{ path: '/query/cursor', message: 'belongs to another sort order' }]);
  });

  it('refuses control characters in names', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { phone_number: '9876512345', full_name: 'Asha\u0000Verma', password: 'monsoon tea on the ghats' } });
    expect(response.statusCode).toBe(422);
  });

  it('never caches personal data or auth answers', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    const me = await ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: admin.headers });
    expect(me.headers['cache-control']).toBe('no-store');
  });
});

describe('transport in production (ASVS V9)', () => {
  async function productionApp(overrides: Record<string, string> = {}) {
    const config = loadConfig({
      NODE_ENV: 'production', LOG_LEVEL: 'silent', DATABASE_URL: 'pglite:///tmp/unused', JWT_PRIVATE_KEYS: '{"keys":[]}', OTP_SECRET: 'x'.repeat(40),
      TRUSTED_PROXIES: '127.0.0.1', SMS_PROVIDER: 'outbox', ...overrides,
    });
    return buildApp(config, { database: ctx.database, kv: createMemoryStore(), sms: new MemorySms(), clock: ctx.clock, keys: ctx.keys, log: pino({ level: 'silent' }) });
  }

  it('refuses plain HTTP seen by a trusted proxy, serves HTTPS, and keeps health probes reachable', async () => {
    const app = await productionApp();
    const plain = await app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'x-forwarded-proto': 'http' } });
    expect(plain.statusCode).toBe(403);
    const secure = await app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'x-forwarded-proto': 'https' } });
    expect(secure.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    await app.close();
  });

  it('docs can be turned off', async () => {
    const app = await productionApp({ DOCS_ENABLED: 'false' });
    expect((await app.inject({ method: 'GET', url: '/docs/', headers: { 'x-forwarded-proto': 'https' } })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/openapi.json', headers: { 'x-forwarded-proto': 'https' } })).statusCode).toBe(404);
    await app.close();
  });
});
