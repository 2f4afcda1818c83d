import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, nextPhone, TEST_PASSWORD, type TestContext } from '../helpers/app.js';
import { createProvider, createRegion } from '../helpers/factories-directory.js';

/**
 * Races that only a real PostgreSQL with a pool of connections can run (PGlite
 * runs one transaction at a time): both requests pass the service's own
 * check, and the database's unique index must turn the loser into a 409.
 */
let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

const statuses = (responses: Array<{ statusCode: number }>) => responses.map((r) => r.statusCode).sort();

describe('registrations of one phone at once', () => {
  it('one is created and every other is a 409 PHONE_TAKEN, for policyholders and agents alike, round after round', async () => {
    const provider = await createProvider(ctx, { type: 'life' });
    const region = await createRegion(ctx);
    for (let round = 0; round < 5; round++) {
      const holder = { phone_number: nextPhone(), full_name: 'Race Holder', password: TEST_PASSWORD };
      const agent = { ...holder, phone_number: nextPhone(), full_name: 'Race Agent', license_number: 'IRDA/AG/2024-1187', license_expiry: '2099-03-31', pan: 'ABCPE1234F',
        provider_ids: [provider.id], region_id: region.id };
      const [holders, agents] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, () => ctx.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: holder }))),
        Promise.all(Array.from({ length: 10 }, () => ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: agent }))),
      ]);
      for (const responses of [holders, agents]) {
        expect(statuses(responses), responses.map((r) => r.body).join('\n')).toEqual([201, ...Array<number>(9).fill(409)]);
        expect(responses.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'PHONE_TAKEN')).toBe(true);
      }
    }
  });
});
