import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signIn, type TestContext } from '../../test/helpers/app.js';
import { DEMO_ACCOUNTS, DEMO_PASSWORD, seedDemoData } from './seed.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

describe('demo data', () => {
  it('seeds a coherent agency once: every demo account signs in and sees its own slice', async () => {
    expect(await seedDemoData(ctx.database.db, ctx.app.services.hasher, ctx.clock)).toBe(true);
    expect(await seedDemoData(ctx.database.db, ctx.app.services.hasher, ctx.clock)).toBe(false);
    const sessions = Object.fromEntries(await Promise.all(DEMO_ACCOUNTS.map(async (a) => [a.role, await signIn(ctx, a.phone, DEMO_PASSWORD)] as const)));
    const policies = async (role: string) => (await ctx.app.inject({ method: 'GET', url: '/api/v1/policies', headers: sessions[role]!.headers })).json().items as Array<{ status: string }>;
    expect(await policies('junior_agent')).toHaveLength(3);
    expect(await policies('provider_admin')).toHaveLength(3);
    const holder = await policies('policyholder');
    expect(holder).toHaveLength(1);
    expect(holder[0]!.status).toBe('active');
    const quote = await ctx.app.inject({ method: 'POST', url: '/api/v1/policies/quote', headers: sessions.junior_agent!.headers, payload: {
      product_id: (await ctx.database.db.selectFrom('products').select('id').executeTakeFirstOrThrow()).id,
      date_of_birth: '1990-01-01', sum_assured_paise: 50_00_000_00, term_years: 20, premium_mode: 'annual' } });
    expect(quote.statusCode).toBe(200);
  });
});
