import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { buildTestApp, signInAs, testConfig, type TestContext } from '../test/helpers/app.js';
import { buildApp, createLogger } from './app.js';
import { createDatabase } from './db/database.js';
import { createMemoryStore } from './shared/kv-store.js';
import { MemorySms } from './shared/sms.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ env: { CORS_ORIGINS: 'https://console.bima.example' } });
});
afterAll(() => ctx.close());

const login = (payload: string, contentType = 'application/json') =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload, headers: { 'content-type': contentType } });

describe('problem details', () => {
  it('malformed JSON is 400 MALFORMED_JSON as application/problem+json', async () => {
    const response = await login('{"method": "password",');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 400, code: 'MALFORMED_JSON', title: 'Bad Request', request_id: response.headers['x-request-id'] });
  });

  it('a wrong media type is 415', async () => {
    const response = await login('method=password', 'application/x-www-form-urlencoded');
    expect(response.statusCode).toBe(415);
    expect(response.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('a body over 1 MB is 413', async () => {
    const response = await login(JSON.stringify({ method: 'otp', phone_number: '9'.repeat(1_100_000) }));
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('invalid input is 422 listing each field; unknown fields are refused, not ignored', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { phone_number: '9876543210', full_name: 'A', password: 'long enough pass', is_admin: true } });
    expect(response.statusCode).toBe(422);
    const body = response.json();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['/is_admin', '/full_name']));
  });

  it('__proto__ and constructor.prototype in a body are refused with 400', async () => {
    const proto = await login('{"method":"otp","phone_number":"9876543210","__proto__":{"admin":true}}');
    const ctor = await login('{"method":"otp","phone_number":"9876543210","constructor":{"prototype":{"admin":true}}}');
    expect(proto.statusCode).toBe(400);
    expect(ctor.statusCode).toBe(400);
  });

  it('an unknown route and a malformed id are 404 problems', async () => {
    const unknown = await ctx.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('NOT_FOUND');
    const admin = await signInAs(ctx, 'policyholder');
    const malformed = await ctx.app.inject({ method: 'DELETE', url: "/api/v1/auth/sessions/not-a-uuid'or'1'='1", headers: admin.headers });
    expect(malformed.statusCode).toBe(404);
  });
});

describe('request ids', () => {
  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const sane = await ctx.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'trace-0123456789' } });
    expect(sane.headers['x-request-id']).toBe('trace-0123456789');
    const unsafe = await ctx.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'bad id\r\nSet-Cookie: x' } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('security headers and CORS', () => {
  it('sends strict headers on API answers and no X-Powered-By', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/health/live' });
    expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('allows only the configured origins', async () => {
    const allowed = await ctx.app.inject({ method: 'OPTIONS', url: '/api/v1/auth/login', headers: { origin: 'https://console.bima.example', 'access-control-request-method': 'POST' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.bima.example');
    const denied = await ctx.app.inject({ method: 'OPTIONS', url: '/api/v1/auth/login', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('operations endpoints', () => {
  it('health/live and health/ready answer ok with the database check', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await ctx.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.database.status).toBe('ok');
  });

  it('/metrics exposes the request duration histogram by route and status', async () => {
    await ctx.app.inject({ method: 'GET', url: '/health/live' });
    const metrics = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/health\/live"[^}]*status_code="200"/);
    expect(metrics.body).toContain('nodejs_eventloop_lag_seconds');
    expect(metrics.body).toContain('db_queries_in_flight');
  });

  it('/metrics answers only its bearer token when METRICS_TOKEN is set', async () => {
    const token = 'm'.repeat(40);
    const guarded = await buildTestApp({ env: { METRICS_TOKEN: token } });
    try {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}x`, token, `Basic ${token}`]) {
        const refused = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
        expect(refused.statusCode, String(authorization)).toBe(401);
        expect(refused.headers['www-authenticate']).toBe('Bearer realm="metrics"');
        expect(refused.body).not.toContain('http_request_duration_seconds');
      }
      const allowed = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.body).toContain('http_request_duration_seconds');
    } finally {
      await guarded.close();
    }
  });

  it('/openapi.json is OpenAPI 3.1 and every operation declares responses; authenticated ones declare bearer security', async () => {
    const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths as Record<string, Record<string, { responses?: object; security?: unknown[] }>>)
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    expect(operations.length).toBeGreaterThan(10);
    for (const { path, method, op } of operations) expect(op.responses, `${method} ${path}`).toBeDefined();
    expect(doc.paths['/api/v1/auth/me'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api/v1/auth/register'].post.requestBody).toBeDefined();
  });

  it('/docs serves the interactive page with its own CSP', async () => {
    const page = await ctx.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('src="js/scalar.js"');
    // The page's script comes from the same lazily loaded module, through the same hand-over.
    const script = await ctx.app.inject({ method: 'GET', url: '/docs/js/scalar.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
    expect(script.body.length).toBeGreaterThan(100_000);
    const missing = await ctx.app.inject({ method: 'GET', url: '/docs/no-such-asset?q=<script>' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.body).not.toContain('<script>');
    // Without the slash the relative script path would miss: the page sends the browser to /docs/.
    const bare = await ctx.app.inject({ method: 'GET', url: '/docs' });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/docs/');
  });
});

describe('logging', () => {
  it('redacts passwords, codes, tokens and the Authorization header', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const log = createLogger({ LOG_LEVEL: 'info' }, sink);
    log.info({ req: { headers: { authorization: 'Bearer secret-token' } }, body: { password: 'hunter2 hunter2', code: '123456', refresh_token: 'rt-secret' } }, 'x');
    const line = lines.join('');
    for (const secret of ['secret-token', 'hunter2', '123456', 'rt-secret']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
  });
});

/**
 * The log lines of an app logging to `makeLogger`'s sink: an authenticated
 * GET /auth/me, then the same without a token (401).
 */
async function requestLogEntries(makeLogger: (sink: Writable) => FastifyBaseLogger) {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const logged = await buildApp(ctx.config, { database: ctx.database, kv: ctx.kv, sms: new MemorySms(), clock: ctx.clock, keys: ctx.keys, log: makeLogger(sink) });
  const user = await signInAs(ctx, 'policyholder');
  await logged.inject({ method: 'GET', url: '/api/v1/auth/me', headers: user.headers });
  await logged.inject({ method: 'GET', url: '/api/v1/auth/me' });
  await logged.close();
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { user, entries, completed: entries.find((entry) => entry.msg === 'request completed') };
}

describe('request logs', () => {
  it('every line of an authenticated request names its request id, route pattern and user', async () => {
    const { user, entries, completed } = await requestLogEntries((sink) => createLogger({ LOG_LEVEL: 'info' }, sink));
    expect(completed).toMatchObject({ route: '/api/v1/auth/me', user_id: user.userId });
    expect(typeof completed?.reqId).toBe('string');
    // The bindings belong to that request alone: the app's own lines carry none of them, nor does the next request's.
    expect(entries.filter((entry) => entry.reqId === undefined).some((entry) => 'user_id' in entry || 'route' in entry)).toBe(false);
    const next = entries.filter((entry) => entry.reqId !== undefined && entry.reqId !== completed?.reqId);
    expect(next.map((entry) => entry.msg)).toEqual(['incoming request', 'request completed']);
    expect(next[1]).toMatchObject({ route: '/api/v1/auth/me', res: { statusCode: 401 } });
    expect(next.some((entry) => 'user_id' in entry)).toBe(false);
  });

  it('a logger not made by createLogger still names them (as ordinary bindings)', async () => {
    const { user, completed } = await requestLogEntries((sink) => pino({ level: 'info' }, sink));
    expect(completed).toMatchObject({ route: '/api/v1/auth/me', user_id: user.userId });
    expect(typeof completed?.reqId).toBe('string');
  });
});

describe('dependency failure', () => {
  it('answers 503 with Retry-After when PostgreSQL is unreachable, and readiness says so', async () => {
    const config = testConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unreachable' });
    const database = createDatabase(config.DATABASE_URL, { poolMax: 1 });
    const kv = createMemoryStore();
    const app = await buildApp(config, { database, kv, sms: new MemorySms(), clock: ctx.clock, keys: ctx.keys, log: pino({ level: 'silent' }) });
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.database.status).toBe('down');
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: '9876543210', password: 'whatever it is' } });
    expect(login.statusCode).toBe(503);
    expect(login.json().code).toBe('SERVICE_UNAVAILABLE');
    expect(login.headers['retry-after']).toBe('5');
    expect(login.body).not.toMatch(/ECONNREFUSED|select|kysely|127\.0\.0\.1|at .*\.ts/i);
    await app.close();
    await database.close();
    await kv.close();
  });
});
