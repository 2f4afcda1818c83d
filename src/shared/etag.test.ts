import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signInAs, type SignedIn, type TestContext } from '../../test/helpers/app.js';
import { createActiveAgent, createCustomer, createProvider, createRegion, type AgentFixture } from '../../test/helpers/factories-directory.js';
import { createExampleProduct, insertCommissionRule, insertPolicy } from '../../test/helpers/factories-policies.js';

let ctx: TestContext;
let admin: SignedIn;
let seller: AgentFixture;
let stranger: AgentFixture;
const reads: Record<string, string> = {};

beforeAll(async () => {
  ctx = await buildTestApp();
  admin = await signInAs(ctx, 'super_admin');
  const provider = await createProvider(ctx);
  const product = await createExampleProduct(ctx, provider.id);
  await insertCommissionRule(ctx, provider.id, { kind: 'term', first_year_bp: 2500, renewal_bp: 500 });
  const region = await createRegion(ctx);
  seller = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: region.id });
  stranger = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: (await createRegion(ctx)).id });
  const customer = (await createCustomer(ctx, seller.agentId)).id;
  const policy = await insertPolicy(ctx, { productId: product, providerId: provider.id, customerId: customer, agentId: seller.agentId, createdBy: seller.userId });
  Object.assign(reads, {
    'a user': `/users/${seller.userId}`,
    'a user\'s preferences': `/users/${seller.userId}/preferences`,
    'a region': `/regions/${region.id}`,
    'a provider': `/providers/${provider.id}`,
    'a product': `/providers/${provider.id}/products/${product}`,
    'a commission rule': `/providers/${provider.id}/commission-rules?product_kind=term`,
    'an agent': `/agents/${seller.agentId}`,
    'a customer': `/customers/${customer}`,
    'a policy': `/policies/${policy}`,
  });
}, 60_000);

afterAll(async () => {
  await ctx?.close();
});

const get = (who: SignedIn, url: string, etag?: string) =>
  ctx.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { ...who.headers, ...(etag ? { 'if-none-match': etag } : {}) } });

describe('conditional reads (If-None-Match) on every versioned resource', () => {
  it.each(['a user', 'a user\'s preferences', 'a region', 'a provider', 'a product', 'a commission rule', 'an agent', 'a customer', 'a policy'])('%s: 304 with no body while the ETag held is current, the whole answer for an old one', async (name) => {
    const url = reads[name]!;
    const current = await get(admin, url);
    expect(current.statusCode, current.body).toBe(200);
    expect(current.headers.etag).toMatch(/^W\/"\d+"$/);
    const unchanged = await get(admin, url, current.headers.etag as string);
    expect(unchanged.statusCode).toBe(304);
    expect(unchanged.body).toBe('');
    expect(unchanged.headers.etag).toBe(current.headers.etag);
    // A list of tags, one of them current, is a match too; a list without it is not.
    expect((await get(admin, url, `W/"999999", ${current.headers.etag as string}`)).statusCode).toBe(304);
    const old = await get(admin, url, 'W/"999999"');
    expect(old.statusCode).toBe(200);
    expect(old.body).toBe(current.body);
  });

  it.each(['an agent', 'a customer', 'a policy'])('%s outside the caller\'s scope stays invisible, whatever ETag the caller sends', async (name) => {
    const url = reads[name]!;
    const etag = (await get(seller, url)).headers.etag as string;
    for (const header of [etag, '*', undefined]) {
      const answer = await get(stranger, url, header);
      expect(answer.statusCode).toBe(404);
      expect(answer.headers.etag).toBeUndefined();
    }
  });
});
