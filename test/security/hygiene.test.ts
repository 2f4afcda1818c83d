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
      ['-created_at', 'x', crypto.randomUUID()], ['full_name', 'x', 'y'], [null, null, null],
      // Instants JavaScript or PostgreSQL cannot hold (an offset of +99; a year carried past 1..9999 by its offset),
      // and text PostgreSQL refuses as a parameter (NUL) or our columns would mangle (a lone surrogate).
      ['2026-01-01T00:00:00+99', crypto.randomUUID()], ['0001-01-01T00:00:00+14', crypto.randomUUID()], ['9999-12-31T23:59:59-14', crypto.randomUUID()],
      ['-created_at', '2026-01-01T00:00:00+99', crypto.randomUUID()], ['created_at', '0001-01-01T00:00:00+14', crypto.randomUUID()],
      ['full_name', 'a\u0000b', crypto.randomUUID()], ['-full_name', 'a\ud800', crypto.randomUUID()], ['name', 'a\u0000b', crypto.randomUUID()]];
    for (const list of lists) {
      for (const cursor of cursors) {
        const url = `/api/v1${list}${list.includes('?') ? '&' : '?'}cursor=${forged(cursor)}`;
        const response = await ctx.app.inject({ method: 'GET', url, headers: admin.headers });
        expect(response.statusCode, `${url} ${response.body}`).toBe(422);
      }
    }
    // Regions page by path, and any text is a path: only a cursor of another shape is refused.
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/regions?cursor=${forged([1, 2])}`, headers: admin.headers })).statusCode).toBe(422);
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/regions?cursor=${forged(['a\u0000b'])}`, headers: admin.headers })).statusCode).toBe(422);
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

  it('refuses control characters and lone surrogates in text, which JSON columns (the audit trail\'s, an address) cannot hold', async () => {
    for (const fullName of ['Asha\u0000Verma', 'Asha \ud800', 'Asha \udc00 Verma']) {
      const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { phone_number: '9876512345', full_name: fullName, password: 'monsoon tea on the ghats' } });
      expect(response.statusCode, fullName).toBe(422);
    }
    const agent = await createActiveAgent(ctx, { providerIds: [(await createProvider(ctx)).id] });
    const customer = { full_name: 'Asha Verma', date_of_birth: '1990-01-01', gender: 'female', phone_number: '9876512399', address: { line1: '\ud800', city: 'Pune', state: 'MH', pincode: '411001' } };
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/customers', headers: agent.headers, payload: customer })).statusCode).toBe(422);
    // A pair is one character (an emoji), not a lone half: accepted.
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/customers', headers: agent.headers, payload: { ...customer, address: { ...customer.address, line1: '14 MG Road \ud83c\udfe0' } } })).statusCode).toBe(201);
  });

  it('refuses filter instants PostgreSQL cannot store, and NUL in the audit trail\'s text filters, with 422', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    const urls = ['/policies?created_from=0000-01-01T00:00:00Z', '/policies?created_to=9999-12-31T23:59:59-14:00', '/audit-events?to=9999-12-31T23:59:59-14:00',
      '/audit-events?from=0001-01-01T00:00:00%2B14:00', '/users/search?created_from=0001-01-01T00:00:00%2B00:01', '/users/search?created_to=0000-12-31T23:59:59Z',
      '/audit-events?action=a%00b', '/audit-events?entity_type=a%00b', '/audit-events?entity_id=a%00b'];
    for (const url of urls) {
      const response = await ctx.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: admin.headers });
      expect(response.statusCode, `${url} ${response.body}`).toBe(422);
    }
    // The edges themselves are instants like any other.
    for (const url of ['/policies?created_from=0001-01-01T00:00:00Z', '/audit-events?to=9999-12-31T23:59:59Z']) {
      expect((await ctx.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: admin.headers })).statusCode, url).toBe(200);
    }
  });

  it('answers a malformed multipart upload with 400, not 500', async () => {
    const agent = await createActiveAgent(ctx, { providerIds: [(await createProvider(ctx)).id] });
    const url = `/api/v1/agents/${agent.agentId}/documents`;
    const bodies: Array<[contentType: string, body: string]> = [
      ['multipart/form-data', 'hello world'],
      ['multipart/form-data; boundary=B', 'hello world'],
      ['multipart/form-data; boundary=B', '--B\r\nContent-Disposition: form-data; name="type"\r\n\r\nlicense\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4 cut short'],
    ];
    for (const [contentType, payload] of bodies) {
      const response = await ctx.app.inject({ method: 'POST', url, headers: { ...agent.headers, 'content-type': contentType }, payload });
      expect(response.statusCode, `${contentType}: ${response.body}`).toBe(400);
      expect(response.json().code).toBe('BAD_REQUEST');
    }
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
