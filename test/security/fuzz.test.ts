import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signInAs, type SignedIn, type TestContext } from '../helpers/app.js';

/**
 * Thousands of random and hostile bodies against every JSON write endpoint in
 * the OpenAPI document, signed in as super_admin (reaches deepest) and
 * anonymous: no answer may be a 5xx or carry internal detail.
 */
let ctx: TestContext;
let admin: SignedIn;
let operations: Array<{ method: 'POST' | 'PUT' | 'DELETE'; url: string }>;

// Ending our own session or changing our password would only make later requests 401.
const SELF_DESTRUCTIVE = /\/auth\/(logout|sessions|password)/;
const LEAKS = /stack|kysely|pglite|postgres|sql|select |insert |\bat \/|node_modules|\.ts:\d+|TypeError|ReferenceError/i;

const hostileString = fc.oneof(
  fc.constantFrom("' OR '1'='1", '"; DROP TABLE users; --', '<script>alert(1)</script>', '../../etc/passwd', '\u0000\u0001\u001f', '%00', '{{7*7}}', '${jndi:ldap://x}',
    'ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ', '9'.repeat(400), '-1', 'NaN', '1e309', '__proto__', 'constructor', '+91 98765 43210', '2026-02-30', '00000000-0000-0000-0000-000000000000'),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
);
const hostileValue = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e21, 2 ** 53 + 1));
const hostileBody = fc.oneof(
  fc.dictionary(fc.constantFrom('phone_number', 'password', 'full_name', 'email', 'role', 'status', 'method', 'code', 'purpose', 'sum_assured_paise', 'term_years',
    'premium_mode', 'product_id', 'customer_id', 'to', 'reason', 'name', 'type', 'action', 'user_ids', 'enabled', 'percentage', 'date_of_birth', 'rate_table', 'agent_id', 'q'), hostileValue),
  fc.object({ maxDepth: 3, values: [hostileValue] }),
  fc.array(hostileValue, { maxLength: 5 }),
  hostileValue,
);

beforeAll(async () => {
  ctx = await buildTestApp();
  admin = await signInAs(ctx, 'super_admin');
  const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } }>> };
  operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method, op]) => ['post', 'put', 'delete'].includes(method) && !op.requestBody?.content?.['multipart/form-data'])
      .map(([method]) => ({ method: method.toUpperCase() as 'POST' | 'PUT' | 'DELETE', url: path.replace(/\{[^}]+\}/g, () => crypto.randomUUID()) })),
  ).filter((op) => !SELF_DESTRUCTIVE.test(op.url));
});
afterAll(() => ctx.close());

describe('fuzzing every write endpoint', () => {
  it('finds write endpoints to fuzz', () => {
    expect(operations.length).toBeGreaterThan(5);
  });

  it('never answers 5xx or leaks internals, signed in or not', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 10_000 }), hostileBody, fc.boolean(), async (pick, body, signedIn) => {
        const op = operations[pick % operations.length]!;
        const response = await ctx.app.inject({
          method: op.method, url: `/api/v1${op.url.replace(/^\/api\/v1/, '')}`,
          headers: { 'content-type': 'application/json', ...(signedIn ? admin.headers : {}) },
          payload: JSON.stringify(body),
        });
        sent += 1;
        expect(response.statusCode, `${op.method} ${op.url} ${JSON.stringify(body).slice(0, 200)} → ${response.body.slice(0, 300)}`).toBeLessThan(500);
        if (response.statusCode >= 400) {
          expect(response.headers['content-type']).toContain('application/problem+json');
          expect(response.json().detail).not.toMatch(LEAKS);
        }
      }),
      { numRuns: 2500 },
    );
    expect(sent).toBeGreaterThanOrEqual(2500);
  }, 300_000);

  it('raw garbage bytes as a JSON body are a 400, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
        const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: Buffer.from(bytes) });
        expect(response.statusCode).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });
});
