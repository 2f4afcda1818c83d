import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtpSendLimits } from '../../src/modules/auth/auth.send-limits.js';
import { AppError } from '../../src/shared/errors.js';
import { buildTestApp, createUser, nextPhone, type TestContext } from '../helpers/app.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ env: { OTP_RESEND_S: '0', OTP_SENDS_PER_PHONE_HOUR: '3', OTP_SENDS_PER_PHONE_DAY: '4', OTP_SENDS_PER_IP_HOUR: '6', SMS_BUDGET_PER_HOUR: '5' } });
});
afterAll(() => ctx.close());

const ask = (phone: string, remoteAddress: string) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/auth/otp', remoteAddress, payload: { phone_number: phone, purpose: 'login' } });

describe('one-time-code send limits (SMS pumping, API6)', () => {
  it('limits codes per phone per hour, registered or not, with Retry-After', async () => {
    for (const phone of [(await createUser(ctx, 'policyholder')).phone, nextPhone()]) {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await ask(phone, `198.51.100.${10 + i}`)).statusCode);
      expect(statuses).toEqual([202, 202, 202, 429]);
    }
    const limited = await ask(nextPhone(), '198.51.100.20');
    expect(limited.statusCode).toBe(202);
  });

  it('limits codes per phone per day, on a window of its own', async () => {
    const limits = new OtpSendLimits({ perPhoneHour: 100, perPhoneDay: 2, perIpHour: 100, smsBudgetHour: 100 }, null, 'day-test:');
    await limits.claimRequest('+919811111111', null);
    await limits.claimRequest('+919811111111', null);
    const refused = await limits.claimRequest('+919811111111', null).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).status).toBe(429);
    expect((refused as AppError).retryAfterS).toBeGreaterThan(3600);
  });

  it('limits codes requested from one address, whatever the phones', async () => {
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await ask(nextPhone(), '203.0.113.77')).statusCode);
    expect(statuses.slice(0, 6).every((s) => s === 202)).toBe(true);
    expect(statuses[6]).toBe(429);
  });

  it('stops real sends at the global hourly SMS budget', async () => {
    const users = await Promise.all(Array.from({ length: 7 }, () => createUser(ctx, 'policyholder')));
    const before = ctx.sms.sent.length;
    const statuses = [];
    for (const [i, user] of users.entries()) statuses.push((await ask(user.phone, `192.0.2.${100 + i}`)).statusCode);
    expect(statuses).toContain(429);
    expect(ctx.sms.sent.length - before).toBeLessThanOrEqual(5);
  });
});
