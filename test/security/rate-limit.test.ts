import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ env: { RATE_LIMIT_MAX: '5', AUTH_RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_S: '60', TRUSTED_PROXIES: '10.0.0.5' } });
});
afterAll(() => ctx.close());

const fromAddress = (url: string, remoteAddress: string, headers: Record<string, string> = {}, method: 'GET' | 'POST' = 'GET') =>
  ctx.app.inject({ method, url, remoteAddress, headers, ...(method === 'POST' ? { payload: { method: 'password', phone_number: `98765${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`, password: 'not a real password' } } : {}) });

describe('rate limiting (API4: unrestricted resource consumption)', () => {
  it('answers 429 RATE_LIMITED with Retry-After and RateLimit headers past the general limit', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await fromAddress('/api/v1/feature-flags', '192.0.2.1');
      statuses.push(last.statusCode);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const limited = await fromAddress('/api/v1/feature-flags', '192.0.2.1');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-limit']).toBe('5');
  });

  it('sign-in routes have their own, stricter limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fromAddress('/api/v1/auth/login', '192.0.2.2', {}, 'POST')).statusCode);
    expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
    expect(statuses[3]).toBe(429);
  });

  it('health and metrics are never limited', async () => {
    for (let i = 0; i < 10; i++) expect((await fromAddress('/health/live', '192.0.2.3')).statusCode).toBe(200);
    for (let i = 0; i < 10; i++) expect((await fromAddress('/metrics', '192.0.2.3')).statusCode).toBe(200);
  });

  it('a client cannot choose its own key with X-Forwarded-For', async () => {
    for (let i = 0; i < 3; i++) await fromAddress('/api/v1/auth/login', '192.0.2.4', { 'x-forwarded-for': `198.51.100.${i}` }, 'POST');
    const spoofed = await fromAddress('/api/v1/auth/login', '192.0.2.4', { 'x-forwarded-for': '198.51.100.99' }, 'POST');
    expect(spoofed.statusCode).toBe(429);
  });

  it('X-Forwarded-For is believed from a trusted proxy', async () => {
    for (let i = 0; i < 3; i++) await fromAddress('/api/v1/auth/login', '10.0.0.5', { 'x-forwarded-for': '203.0.113.7' }, 'POST');
    expect((await fromAddress('/api/v1/auth/login', '10.0.0.5', { 'x-forwarded-for': '203.0.113.7' }, 'POST')).statusCode).toBe(429);
    expect((await fromAddress('/api/v1/auth/login', '10.0.0.5', { 'x-forwarded-for': '203.0.113.8' }, 'POST')).statusCode).not.toBe(429);
  });

  it('counts refusals in rate_limit_hits_total', async () => {
    const metrics = (await fromAddress('/metrics', '192.0.2.9')).body;
    expect(metrics).toMatch(/rate_limit_hits_total\{scope="auth"\} [1-9]/);
  });
});
