import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookAlertSink, type SecurityAlert } from '../../src/modules/security/security.alerts.js';
import { buildTestApp, createUser, signIn, signInAs, TEST_PASSWORD, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

const login = (phone: string, password: string, remoteAddress: string, userAgent = 'test-agent') =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, headers: { 'user-agent': userAgent }, payload: { method: 'password', phone_number: phone, password } });

async function securityEvents(kind: string) {
  return ctx.database.db.selectFrom('security_events').selectAll().where('kind', '=', kind).execute();
}

describe('intrusion detection (ASVS V2.2, API2)', () => {
  it('credential stuffing from one address across accounts blocks that address and is recorded', async () => {
    const victims = await Promise.all(Array.from({ length: 3 }, () => createUser(ctx, 'policyholder')));
    for (let i = 0; i < 30; i++) await login(victims[i % 3]!.phone, `wrong guess number ${i}`, '198.51.100.23');
    const blocked = await login(victims[0]!.phone, TEST_PASSWORD, '198.51.100.23');
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    const bystander = await createUser(ctx, 'policyholder');
    expect((await login(bystander.phone, TEST_PASSWORD, '198.51.100.24')).statusCode).toBe(200);
    const events = await securityEvents('credential_stuffing');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ severity: 'high', ip_address: '198.51.100.23' });
  });

  it('refresh-token reuse is a high-severity security event', async () => {
    const session = await signInAs(ctx, 'policyholder');
    await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: session.refreshToken } });
    await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: session.refreshToken } });
    const events = (await securityEvents('refresh_token_reuse')).filter((e) => e.user_id === session.userId);
    expect(events).toHaveLength(1);
  });

  it('repeated 403s from one user are reported once at the threshold', async () => {
    const agent = await signInAs(ctx, 'junior_agent');
    for (let i = 0; i < 12; i++) await ctx.app.inject({ method: 'PUT', url: '/api/v1/feature-flags/x-flag', headers: agent.headers, payload: { enabled: true } });
    // Counted after each answer is sent (never delaying it), so the event may land a moment later.
    const mine = async () => (await securityEvents('repeated_forbidden')).filter((e) => e.user_id === agent.userId);
    for (let i = 0; i < 40 && (await mine()).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await mine()).toHaveLength(1);
  });

  it('a sign-in from a new device is noticed, a known one is not', async () => {
    const user = await createUser(ctx, 'policyholder');
    await login(user.phone, TEST_PASSWORD, '192.0.2.50', 'Flutter/3.24 (Android 14; Pixel 8)');
    await login(user.phone, TEST_PASSWORD, '192.0.2.50', 'Flutter/3.24 (Android 14; Pixel 8)');
    expect((await securityEvents('new_device_sign_in')).filter((e) => e.user_id === user.id)).toHaveLength(0);
    await login(user.phone, TEST_PASSWORD, '192.0.2.51', 'Mozilla/5.0 (Windows NT 10.0)');
    expect((await securityEvents('new_device_sign_in')).filter((e) => e.user_id === user.id)).toHaveLength(1);
  });

  it('an OTP sign-in follows the same new-device rule as a password one', async () => {
    const user = await createUser(ctx, 'policyholder');
    const otpLogin = async (userAgent: string) => {
      const headers = { 'user-agent': userAgent };
      // A code per sign-in, as a phone would ask for them: some time apart, past the resend cooldown.
      ctx.clock.advance(60_000);
      await ctx.kv.del(`otp:cooldown:login:${user.phone}`);
      expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers, payload: { method: 'otp', phone_number: user.phone } })).statusCode).toBe(202);
      const code = ctx.sms.lastCodeFor(user.phone, 'login');
      expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/verify-otp', headers, payload: { phone_number: user.phone, code, purpose: 'login' } })).statusCode).toBe(200);
    };
    const mine = async () => (await securityEvents('new_device_sign_in')).filter((e) => e.user_id === user.id);
    // A password sign-in from the phone, then OTP from the same phone: known.
    await login(user.phone, TEST_PASSWORD, '192.0.2.60', 'Flutter/3.24 (Android 14; Pixel 8)');
    await otpLogin('Flutter/3.24 (Android 14; Pixel 8)');
    expect(await mine()).toHaveLength(0);
    // OTP from a browser never seen: new, recorded with its user agent.
    await otpLogin('Mozilla/5.0 (Macintosh)');
    const events = await mine();
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toMatchObject({ user_agent: 'Mozilla/5.0 (Macintosh)' });
    // And from then on that browser is known to the password sign-in too.
    await login(user.phone, TEST_PASSWORD, '192.0.2.61', 'Mozilla/5.0 (Macintosh)');
    expect(await mine()).toHaveLength(1);
  });

  it('an OTP brute force (hourly cap reached) is recorded', async () => {
    const user = await createUser(ctx, 'policyholder');
    for (let i = 0; i < 15; i++) await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/verify-otp', payload: { phone_number: user.phone, code: String(100000 + i), purpose: 'login' } });
    const events = (await securityEvents('otp_brute_force')).filter((e) => (e.details as { phone_last4: string }).phone_last4 === user.phone.slice(-4));
    expect(events).toHaveLength(1);
  });

  it('GET /security-events is for super_admin only, newest first, filterable', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/security-events?severity=high&limit=2', headers: admin.headers });
    expect(list.statusCode).toBe(200);
    const body = list.json();
    expect(body.items.length).toBeGreaterThan(0);
    expect(body.items.every((e: { severity: string }) => e.severity === 'high')).toBe(true);
    const manager = await signInAs(ctx, 'regional_manager');
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/security-events', headers: manager.headers })).statusCode).toBe(403);
    await signIn(ctx, admin.phone);
  });
});

describe('alert webhook', () => {
  let server: Server;
  const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
  let failuresLeft = 1;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (failuresLeft-- > 0) return res.writeHead(500).end();
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts alerts signed with HMAC-SHA256 over timestamp and body, retrying a failed delivery', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
    const sink = createWebhookAlertSink({ url, secret: 'webhook-secret-123456', log: pino({ level: 'silent' }), backoffMs: 10 });
    const alert: SecurityAlert = { id: crypto.randomUUID(), kind: 'credential_stuffing', severity: 'high', occurred_at: new Date().toISOString(), user_id: null, ip_address: '198.51.100.1', details: { failures: 30 } };
    const started = performance.now();
    sink.send(alert);
    expect(performance.now() - started).toBeLessThan(50);
    await sink.idle();
    expect(received).toHaveLength(1);
    const { headers, body } = received[0]!;
    const expected = createHmac('sha256', 'webhook-secret-123456').update(`${headers['x-bima-timestamp']}.${body}`).digest('hex');
    expect(headers['x-bima-signature']).toBe(`sha256=${expected}`);
    expect(JSON.parse(body)).toEqual(alert);
  });
});
