import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createUser, nextPhone, pageCacheLookups, signIn, signInAs, TEST_PASSWORD, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import {
  createActiveAgent, createCustomer, createProvider, createRegion, signInProviderAdmin, signInRegionalManager, type AgentFixture, type ProviderFixture,
} from '../../../test/helpers/factories-directory.js';
import { createExampleProduct, insertPolicy } from '../../../test/helpers/factories-policies.js';

let ctx: TestContext;
let provider: ProviderFixture;
let otherProvider: ProviderFixture;
let product: string;
let otherProduct: string;
let senior: AgentFixture; // region R1, manages junior
let junior: AgentFixture; // region R1/sub
let stranger: AgentFixture; // region R2, same provider
let otherSeller: AgentFixture; // represents only the other provider
let providerAdmin: SignedIn;
let otherProviderAdmin: SignedIn;
let regionalManager: SignedIn;
let superAdmin: SignedIn;
let policyholder: SignedIn;
let juniorCustomer: string;
let strangerCustomer: string;

type Who = { headers: { authorization: string } };
const api = (who: Who | null, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method, url: `/api/v1${url}`, headers: { ...(who?.headers ?? {}), ...headers }, ...(payload ? { payload } : {}) });

const draftBody = (overrides: Record<string, unknown> = {}) => ({
  product_id: product, customer_id: juniorCustomer, sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'annual', ...overrides,
});
const messages = (body: { errors?: { path: string; message: string }[] }) => (body.errors ?? []).map((e) => `${e.path} ${e.message}`);
/** Every policy the caller may list, page by page (`limit` per page). */
const listAll = async (who: Who, query = '', limit = 100) => {
  const items: { id: string; agent_id: string; provider_id: string }[] = [];
  let cursor: string | null = null;
  do {
    const response = await api(who, 'GET', `/policies?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(response.statusCode, response.body).toBe(200);
    items.push(...response.json().items);
    cursor = response.json().next_cursor;
  } while (cursor);
  return items;
};

beforeAll(async () => {
  ctx = await buildTestApp();
  // 01:30 on 1 April 2026 in India, still 31 March in UTC: "today" must be India's.
  ctx.clock.set('2026-03-31T20:00:00Z');
  provider = await createProvider(ctx);
  otherProvider = await createProvider(ctx);
  product = await createExampleProduct(ctx, provider.id);
  otherProduct = await createExampleProduct(ctx, otherProvider.id);
  const r1 = await createRegion(ctx);
  const r1sub = await createRegion(ctx, { parent: r1 });
  const r2 = await createRegion(ctx);
  senior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id], regionId: r1.id });
  junior = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: r1sub.id, managerAgentId: senior.agentId });
  stranger = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: r2.id });
  otherSeller = await createActiveAgent(ctx, { providerIds: [otherProvider.id], regionId: r2.id });
  providerAdmin = await signInProviderAdmin(ctx, provider.id);
  otherProviderAdmin = await signInProviderAdmin(ctx, otherProvider.id);
  regionalManager = await signInRegionalManager(ctx, r1.id);
  superAdmin = await signInAs(ctx, 'super_admin');
  policyholder = await signInAs(ctx, 'policyholder');
  juniorCustomer = (await createCustomer(ctx, junior.agentId, { dateOfBirth: '1996-04-01', phone: policyholder.phone })).id;
  strangerCustomer = (await createCustomer(ctx, stranger.agentId)).id;
}, 60_000);

afterAll(async () => {
  await ctx?.close();
});

describe('POST /policies/quote', () => {
  const quote = (overrides: Record<string, unknown> = {}) => ({ product_id: product, date_of_birth: '1996-04-01', sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'monthly', ...overrides });

  it('prices the worked example exactly, starting today in India', async () => {
    // base 50,000,000 × 1250 / 100,000 = 625,000; monthly × 0.0875 = 54,687.5 -> 54,688; GST-exempt; × 12 = 656,256
    const response = await api(junior, 'POST', '/policies/quote', quote());
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      product_id: product, start_date: '2026-04-01', sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'monthly', instalments_per_year: 12,
      age: 30, tax_rate_bp: 0, base_annual_paise: 625_000, modal_factor: 0.0875, installment_paise: 54_688, tax_paise: 0,
      total_installment_paise: 54_688, annualized_total_paise: 656_256,
    });
  });

  it('charges 18% GST on a term policy starting before 22 September 2025', async () => {
    const annual = await api(junior, 'POST', '/policies/quote', quote({ date_of_birth: '1995-09-21', start_date: '2025-09-21', premium_mode: 'annual' }));
    expect(annual.json()).toMatchObject({ age: 30, installment_paise: 625_000, tax_rate_bp: 1800, tax_paise: 112_500, total_installment_paise: 737_500, annualized_total_paise: 737_500 });
    // 54,688 × 18% = 9,843.84 -> 9,844; 64,532 × 12 = 774,384
    const monthly = await api(junior, 'POST', '/policies/quote', quote({ date_of_birth: '1995-09-21', start_date: '2025-09-21' }));
    expect(monthly.json()).toMatchObject({ installment_paise: 54_688, tax_paise: 9_844, total_installment_paise: 64_532, annualized_total_paise: 774_384 });
  });

  it('uses the age nearer birthday: six months past a birthday counts as the next age', async () => {
    // born 1995-10-01: 30 on 2025-10-01, six months later (2026-04-01) counts as 31 -> the 31..45 band, ₹24 per ₹1,000
    const response = await api(junior, 'POST', '/policies/quote', quote({ date_of_birth: '1995-10-01', premium_mode: 'annual' }));
    expect(response.json()).toMatchObject({ age: 31, base_annual_paise: 1_200_000, total_installment_paise: 1_200_000 });
  });

  it('lets any signed-in user quote, a policyholder too', async () => {
    expect((await api(policyholder, 'POST', '/policies/quote', quote())).statusCode).toBe(200);
    expect((await api(null, 'POST', '/policies/quote', quote())).statusCode).toBe(401);
  });

  it('names every broken rule of the product at once', async () => {
    const restricted = await createExampleProduct(ctx, provider.id, { premium_modes: ['annual'] });
    const response = await api(junior, 'POST', '/policies/quote', {
      product_id: restricted, date_of_birth: '1961-01-01', sum_assured_paise: 5_000_000, term_years: 45, premium_mode: 'monthly',
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().code).toBe('VALIDATION_FAILED');
    const errors = messages(response.json());
    for (const expected of ['/date_of_birth ENTRY_AGE_ABOVE_MAX', '/sum_assured_paise SUM_ASSURED_BELOW_MIN', '/term_years TERM_ABOVE_MAX',
      '/term_years MATURITY_AGE_EXCEEDED', '/premium_mode PREMIUM_MODE_NOT_ALLOWED']) {
      expect(errors.some((e) => e.startsWith(expected))).toBe(true);
    }
  });

  it.each([
    ['ENTRY_AGE_BELOW_MIN', { date_of_birth: '2010-01-01' }, '/date_of_birth'],
    ['SUM_ASSURED_ABOVE_MAX', { sum_assured_paise: 100_000_000_001 }, '/sum_assured_paise'],
    ['TERM_BELOW_MIN', { term_years: 4 }, '/term_years'],
    ['MATURITY_AGE_EXCEEDED', { date_of_birth: '1971-01-01', term_years: 25 }, '/term_years'],
  ])('refuses %s naming the rule', async (rule, overrides, path) => {
    const response = await api(junior, 'POST', '/policies/quote', quote(overrides));
    expect(response.statusCode).toBe(422);
    expect(response.json().errors).toEqual([{ path, message: expect.stringMatching(new RegExp(`^${rule}: `)) }]);
  });

  it('answers 404 for an unknown product and 422 for a product or provider not on sale', async () => {
    expect((await api(junior, 'POST', '/policies/quote', quote({ product_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12' }))).statusCode).toBe(404);
    const inactive = await createExampleProduct(ctx, provider.id, { status: 'inactive' });
    const closed = await createProvider(ctx, { status: 'suspended' });
    const ofClosed = await createExampleProduct(ctx, closed.id);
    expect(messages((await api(junior, 'POST', '/policies/quote', quote({ product_id: inactive }))).json())[0]).toMatch(/^\/product_id PRODUCT_NOT_ACTIVE/);
    expect(messages((await api(junior, 'POST', '/policies/quote', quote({ product_id: ofClosed }))).json())[0]).toMatch(/^\/product_id PROVIDER_NOT_ACTIVE/);
  });

  it('quotes from a cached product, and a change to the product or its provider applies to the very next quote', async () => {
    const closing = await createProvider(ctx);
    const changing = await createExampleProduct(ctx, closing.id);
    const other = await createExampleProduct(ctx, closing.id);
    const first = await api(junior, 'POST', '/policies/quote', quote({ product_id: changing }));
    expect(first.statusCode).toBe(200);
    expect((await api(junior, 'POST', '/policies/quote', quote({ product_id: other }))).statusCode).toBe(200);
    // New rates on the product: the next quote is priced with them.
    const repriced = await api(superAdmin, 'PUT', `/providers/${closing.id}/products/${changing}`, { rate_table: [
      { min_age: 18, max_age: 30, rate_per_thousand_paise: 2500 },
      { min_age: 31, max_age: 45, rate_per_thousand_paise: 4800 },
      { min_age: 46, max_age: 60, rate_per_thousand_paise: 10200 },
    ] });
    expect(repriced.statusCode).toBe(200);
    const second = await api(junior, 'POST', '/policies/quote', quote({ product_id: changing }));
    expect(second.json().base_annual_paise).toBe(2 * first.json().base_annual_paise);
    // Taken off sale, then its provider suspended: each refusal is immediate.
    expect((await api(superAdmin, 'PUT', `/providers/${closing.id}/products/${changing}`, { status: 'inactive' })).statusCode).toBe(200);
    expect(messages((await api(junior, 'POST', '/policies/quote', quote({ product_id: changing }))).json())[0]).toMatch(/^\/product_id PRODUCT_NOT_ACTIVE/);
    expect((await api(superAdmin, 'PUT', `/providers/${closing.id}/status`, { status: 'suspended', reason: 'Licence under review' })).statusCode).toBe(200);
    expect(messages((await api(junior, 'POST', '/policies/quote', quote({ product_id: other }))).json())[0]).toMatch(/^\/product_id PROVIDER_NOT_ACTIVE/);
  });

  it('refuses unknown fields and malformed values', async () => {
    expect((await api(junior, 'POST', '/policies/quote', { ...quote(), discount: 10 })).statusCode).toBe(422);
    expect((await api(junior, 'POST', '/policies/quote', quote({ premium_mode: 'weekly' }))).statusCode).toBe(422);
    expect((await api(junior, 'POST', '/policies/quote', quote({ sum_assured_paise: 1.5 }))).statusCode).toBe(422);
  });
});

describe('POST /policies', () => {
  it('creates a draft priced like the quote, sold by the caller', async () => {
    const response = await api(junior, 'POST', '/policies', draftBody({ premium_mode: 'monthly', nominee: { name: 'Ravi Verma', relationship: 'spouse' } }));
    expect(response.statusCode).toBe(201);
    expect(response.headers.etag).toBe('W/"1"');
    const policy = response.json();
    expect(policy).toMatchObject({
      status: 'draft', policy_number: null, agent_id: junior.agentId, provider_id: provider.id, customer_id: juniorCustomer, created_by: junior.userId,
      sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'monthly', start_date: null, version: 1,
      premium: { age: 30, tax_rate_bp: 0, base_annual_paise: 625_000, modal_factor: 0.0875, installment_paise: 54_688, tax_paise: 0, total_installment_paise: 54_688, annualized_total_paise: 656_256 },
      nominee: { name: 'Ravi Verma', relationship: 'spouse', share_percent: 100 },
    });
    expect(policy.status_history).toEqual([{ from_status: null, to_status: 'draft', reason: null, actor_id: junior.userId, created_at: '2026-03-31T20:00:00Z' }]);
    const audit = await ctx.database.db.selectFrom('audit_events').select(['action', 'actor_id']).where('entity_id', '=', policy.id).execute();
    expect(audit).toEqual([{ action: 'policy.created', actor_id: junior.userId }]);
  });

  it('replays the first answer for a retried Idempotency-Key and creates nothing new', async () => {
    const count = async () => Number((await ctx.database.db.selectFrom('policies').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const key = { 'idempotency-key': 'create-policy-0001' };
    const first = await api(junior, 'POST', '/policies', draftBody(), key);
    const again = await api(junior, 'POST', '/policies', draftBody(), key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json().id).toBe(first.json().id);
    expect(await count()).toBe(before + 1);
    expect((await api(junior, 'POST', '/policies', draftBody({ term_years: 21 }), key)).json().code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('answers 404 for a customer outside the caller\'s scope', async () => {
    const response = await api(junior, 'POST', '/policies', draftBody({ customer_id: strangerCustomer }));
    expect(response.statusCode).toBe(404);
  });

  it('lets a senior agent sell to its team\'s customer, as the seller', async () => {
    const response = await api(senior, 'POST', '/policies', draftBody());
    expect(response.statusCode).toBe(201);
    expect(response.json().agent_id).toBe(senior.agentId);
  });

  it('names the customer for its age rules and the product for the agent\'s appointment', async () => {
    const old = (await createCustomer(ctx, junior.agentId, { dateOfBirth: '1950-01-01' })).id;
    const tooOld = await api(junior, 'POST', '/policies', draftBody({ customer_id: old }));
    expect(tooOld.statusCode).toBe(422);
    expect(messages(tooOld.json())).toContainEqual(expect.stringMatching(/^\/customer_id ENTRY_AGE_ABOVE_MAX/));
    const ownCustomer = (await createCustomer(ctx, otherSeller.agentId)).id;
    const notAppointed = await api(otherSeller, 'POST', '/policies', draftBody({ customer_id: ownCustomer }));
    expect(notAppointed.statusCode).toBe(422);
    expect(messages(notAppointed.json())).toEqual([expect.stringMatching(/^\/product_id AGENT_NOT_APPOINTED/)]);
  });

  it('refuses an agent whose licence has expired, with every other broken rule', async () => {
    const lapsed = await createActiveAgent(ctx, { providerIds: [provider.id], licenseExpiry: '2026-03-31' });
    const customer = (await createCustomer(ctx, lapsed.agentId)).id;
    const response = await api(lapsed, 'POST', '/policies', draftBody({ customer_id: customer, term_years: 41 }));
    expect(response.statusCode).toBe(422);
    const errors = messages(response.json());
    expect(errors).toContainEqual(expect.stringMatching(/AGENT_CANNOT_SELL: .*licence expired on 2026-03-31/));
    expect(errors).toContainEqual(expect.stringMatching(/^\/term_years TERM_ABOVE_MAX/));
  });

  it('lets only active agents create: admins, managers, policyholders and pending agents get 403', async () => {
    for (const who of [providerAdmin, regionalManager, policyholder, superAdmin]) {
      expect((await api(who, 'POST', '/policies', draftBody())).statusCode).toBe(403);
    }
    const pending = await createActiveAgent(ctx, { providerIds: [provider.id], status: 'pending_approval' });
    expect((await api(pending, 'POST', '/policies', draftBody())).statusCode).toBe(403);
  });

  it('refuses unknown fields and a nominee share outside 1..100', async () => {
    expect((await api(junior, 'POST', '/policies', { ...draftBody(), status: 'active' })).statusCode).toBe(422);
    expect((await api(junior, 'POST', '/policies', draftBody({ nominee: { name: 'Ravi', relationship: 'son', share_percent: 0 } }))).statusCode).toBe(422);
  });
});

describe('PUT /policies/:id', () => {
  const newDraft = async () => (await api(junior, 'POST', '/policies', draftBody())).json();

  it('changes only the given fields of a draft and prices it again', async () => {
    const draft = await newDraft();
    const nominee = { name: 'Meera Verma', relationship: 'daughter', share_percent: 60 };
    const response = await api(junior, 'PUT', `/policies/${draft.id}`, { premium_mode: 'monthly', nominee }, { 'if-match': 'W/"1"' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('W/"2"');
    expect(response.json()).toMatchObject({ version: 2, premium_mode: 'monthly', sum_assured_paise: 50_000_000, term_years: 20, nominee, premium: { installment_paise: 54_688, annualized_total_paise: 656_256 } });
    const removed = await api(junior, 'PUT', `/policies/${draft.id}`, { nominee: null });
    expect(removed.json()).toMatchObject({ version: 3, nominee: null, premium_mode: 'monthly' });
    const read = await api(junior, 'GET', `/policies/${draft.id}`);
    expect(read.headers.etag).toBe('W/"3"');
  });

  it('answers 412 to a stale If-Match', async () => {
    const draft = await newDraft();
    await api(junior, 'PUT', `/policies/${draft.id}`, { term_years: 25 });
    const stale = await api(junior, 'PUT', `/policies/${draft.id}`, { term_years: 30 }, { 'if-match': 'W/"1"' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('PRECONDITION_FAILED');
  });

  it('refuses terms that break the product\'s rules', async () => {
    const draft = await newDraft();
    const response = await api(junior, 'PUT', `/policies/${draft.id}`, { sum_assured_paise: 1_000 });
    expect(response.statusCode).toBe(422);
    expect(messages(response.json())).toEqual([expect.stringMatching(/^\/sum_assured_paise SUM_ASSURED_BELOW_MIN/)]);
  });

  it('edits nothing but drafts', async () => {
    const draft = await newDraft();
    await api(junior, 'POST', `/policies/${draft.id}/transitions`, { to: 'submitted' });
    const response = await api(junior, 'PUT', `/policies/${draft.id}`, { term_years: 25 });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('CONFLICT');
  });

  it('hides another agent\'s draft (404) and forbids others in scope from editing (403)', async () => {
    const draft = await newDraft();
    expect((await api(stranger, 'PUT', `/policies/${draft.id}`, { term_years: 25 })).statusCode).toBe(404);
    expect((await api(otherProviderAdmin, 'PUT', `/policies/${draft.id}`, { term_years: 25 })).statusCode).toBe(404);
    expect((await api(providerAdmin, 'PUT', `/policies/${draft.id}`, { term_years: 25 })).statusCode).toBe(403);
    expect((await api(senior, 'PUT', `/policies/${draft.id}`, { term_years: 25 })).statusCode).toBe(403);
    expect((await api(superAdmin, 'PUT', `/policies/${draft.id}`, { term_years: 25 })).statusCode).toBe(200);
  });

  it('refuses an empty or unknown change', async () => {
    const draft = await newDraft();
    expect((await api(junior, 'PUT', `/policies/${draft.id}`, {})).statusCode).toBe(422);
    expect((await api(junior, 'PUT', `/policies/${draft.id}`, { status: 'active' })).statusCode).toBe(422);
  });
});

describe('reading policies: scope of every role', () => {
  let ids: { junior: string; senior: string; stranger: string; other: string; holderByUser: string };

  beforeAll(async () => {
    const holderUser = await createUser(ctx, 'policyholder');
    const holder = await signIn(ctx, holderUser.phone);
    const byUser = (await createCustomer(ctx, stranger.agentId, { userId: holder.userId })).id;
    const otherCustomer = (await createCustomer(ctx, otherSeller.agentId)).id;
    const base = { productId: product, providerId: provider.id };
    ids = {
      junior: await insertPolicy(ctx, { ...base, customerId: juniorCustomer, agentId: junior.agentId, createdBy: junior.userId }),
      senior: await insertPolicy(ctx, { ...base, customerId: juniorCustomer, agentId: senior.agentId, createdBy: senior.userId, status: 'active' }),
      stranger: await insertPolicy(ctx, { ...base, customerId: strangerCustomer, agentId: stranger.agentId, createdBy: stranger.userId }),
      other: await insertPolicy(ctx, { productId: otherProduct, providerId: otherProvider.id, customerId: otherCustomer, agentId: otherSeller.agentId, createdBy: otherSeller.userId }),
      holderByUser: await insertPolicy(ctx, { ...base, customerId: byUser, agentId: stranger.agentId, createdBy: stranger.userId }),
    };
    holderByUserSession = holder;
  });
  let holderByUserSession: SignedIn;

  const visible = async (who: Who) => {
    const listed = new Set((await listAll(who)).map((p) => p.id));
    const result: Record<string, boolean> = {};
    for (const [name, id] of Object.entries(ids)) {
      const one = await api(who, 'GET', `/policies/${id}`);
      expect(one.statusCode === 200).toBe(listed.has(id));
      if (one.statusCode !== 200) expect(one.statusCode).toBe(404);
      result[name] = listed.has(id);
    }
    return result;
  };

  it('a junior agent sees only the policies it sold', async () => {
    expect(await visible(junior)).toEqual({ junior: true, senior: false, stranger: false, other: false, holderByUser: false });
    expect((await listAll(junior)).every((p) => p.agent_id === junior.agentId)).toBe(true);
  });

  it('a senior agent sees its own and its team\'s policies', async () => {
    expect(await visible(senior)).toEqual({ junior: true, senior: true, stranger: false, other: false, holderByUser: false });
  });

  it('a regional manager sees the policies of agents in its region and sub-regions', async () => {
    expect(await visible(regionalManager)).toEqual({ junior: true, senior: true, stranger: false, other: false, holderByUser: false });
  });

  it('a provider admin sees its provider\'s policies only', async () => {
    expect(await visible(providerAdmin)).toEqual({ junior: true, senior: true, stranger: true, other: false, holderByUser: true });
    expect(await visible(otherProviderAdmin)).toEqual({ junior: false, senior: false, stranger: false, other: true, holderByUser: false });
  });

  it('a policyholder sees the policies where it is the customer, by phone or by login', async () => {
    expect(await visible(policyholder)).toEqual({ junior: true, senior: true, stranger: false, other: false, holderByUser: false });
    expect(await visible(holderByUserSession)).toEqual({ junior: false, senior: false, stranger: false, other: false, holderByUser: true });
  });

  it('a super_admin sees everything', async () => {
    expect(await visible(superAdmin)).toEqual({ junior: true, senior: true, stranger: true, other: true, holderByUser: true });
  });

  it('a policyholder an administrator created with someone\'s phone sees nothing until a code proves the phone; the password chosen before is dropped then', async () => {
    const phone = nextPhone();
    const base = { productId: product, providerId: provider.id, agentId: stranger.agentId, createdBy: stranger.userId };
    const before = await insertPolicy(ctx, { ...base, customerId: (await createCustomer(ctx, stranger.agentId, { phone })).id });
    const created = await api(providerAdmin, 'POST', '/users', { phone_number: phone, full_name: 'Not The Owner', role: 'policyholder', password: TEST_PASSWORD });
    expect(created.statusCode).toBe(201);
    expect(created.json().phone_verified).toBe(false);
    // A customer brought in afterwards is not linked to the unproven login either.
    const after = await insertPolicy(ctx, { ...base, customerId: (await createCustomer(ctx, stranger.agentId, { phone })).id });
    const byPassword = await signIn(ctx, phone);
    expect(await listAll(byPassword)).toEqual([]);
    for (const id of [before, after]) expect((await api(byPassword, 'GET', `/policies/${id}`)).statusCode).toBe(404);

    // The phone's owner signs in by code: the phone is proven, and its policies are its own.
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'otp', phone_number: phone } })).statusCode).toBe(202);
    const verified = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/verify-otp', payload: { phone_number: phone, purpose: 'login', code: ctx.sms.lastCodeFor(phone, 'login') } });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user.phone_verified).toBe(true);
    const owner = { userId: verified.json().user.id as string, headers: { authorization: `Bearer ${verified.json().access_token}` } };
    expect((await listAll(owner)).map((p) => p.id).sort()).toEqual([before, after].sort());

    // The administrator's password and the session it opened are gone.
    expect((await api(byPassword, 'GET', '/auth/me')).statusCode).toBe(401);
    const again = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: phone, password: TEST_PASSWORD } });
    expect(again.statusCode).toBe(401);
    const event = await ctx.database.db.selectFrom('audit_events').select('changes').where('action', '=', 'auth.phone_verified').where('entity_id', '=', owner.userId).executeTakeFirstOrThrow();
    expect(event.changes).toMatchObject({ via: 'otp', password_dropped: true });
  });

  it('filters by status, agent, customer, product and provider', async () => {
    const check = async (query: string, expected: (p: Record<string, unknown>) => boolean) => {
      const items = await listAll(superAdmin, query);
      expect(items.length).toBeGreaterThan(0);
      expect(items.every(expected as (p: object) => boolean)).toBe(true);
    };
    await check('&status=active', (p) => p.status === 'active');
    await check(`&agent_id=${stranger.agentId}`, (p) => p.agent_id === stranger.agentId);
    await check(`&customer_id=${strangerCustomer}`, (p) => p.customer_id === strangerCustomer);
    await check(`&product_id=${otherProduct}`, (p) => p.product_id === otherProduct);
    await check(`&provider_id=${otherProvider.id}`, (p) => p.provider_id === otherProvider.id);
    expect(await listAll(providerAdmin, `&provider_id=${otherProvider.id}`)).toEqual([]);
  });

  it('refuses instants RFC 3339 allows but no Date can hold (a leap second, an RFC 9557 zone suffix) with 422, not a database error', async () => {
    for (const instant of ['2026-12-31T23:59:60Z', '2026-01-01T00:00:00Z[Asia/Kolkata]']) {
      const response = await api(superAdmin, 'GET', `/policies?created_from=${encodeURIComponent(instant)}`);
      expect(response.statusCode, instant).toBe(422);
      expect(response.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it('filters by creation time and pages newest first without gaps or repeats', async () => {
    const early = await insertPolicy(ctx, { productId: product, providerId: provider.id, customerId: strangerCustomer, agentId: stranger.agentId, createdBy: stranger.userId, createdAt: new Date('2026-01-10T00:00:00Z') });
    const window = await listAll(superAdmin, '&created_from=2026-01-01T00:00:00Z&created_to=2026-02-01T00:00:00Z');
    expect(window.map((p) => p.id)).toEqual([early]);

    const all = await listAll(superAdmin);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; next_cursor: string | null } = (await api(superAdmin, 'GET', `/policies?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json();
      expect(page.items.length).toBeLessThanOrEqual(3);
      paged.push(...page.items.map((p) => p.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all.map((p) => p.id));
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged[paged.length - 1]).toBe(early);
    const ascending = await listAll(superAdmin, '&sort=created_at');
    expect(ascending[0]!.id).toBe(early);
  });

  it('refuses a tampered cursor or an unknown sort', async () => {
    const forged = Buffer.from(JSON.stringify(['not a date', 'x'])).toString('base64url');
    expect((await api(superAdmin, 'GET', `/policies?cursor=${forged}`)).statusCode).toBe(422);
    expect((await api(superAdmin, 'GET', '/policies?sort=premium')).statusCode).toBe(422);
  });

  it('lists each policy exactly as the one-policy read shows it (PostgreSQL renders the page, the read maps rows)', async () => {
    // What the other policies here lack: a fractional modal factor, an issue instant with milliseconds, a nominee whose name needs escaping.
    const odd = await insertPolicy(ctx, {
      productId: product, providerId: provider.id, customerId: strangerCustomer, agentId: stranger.agentId, createdBy: stranger.userId,
      status: 'cancelled', issuedAt: new Date('2026-03-01T10:20:30.999Z'), premiumMode: 'monthly',
    });
    const nominee = { name: 'Ravi "Raju" \\ Kumar\t😀 रवि', relationship: 'son', share_percent: 100 };
    await ctx.database.db.updateTable('policies').set({ modal_factor: '0.0875', nominee: JSON.stringify(nominee) }).where('id', '=', odd).execute();
    const items = (await listAll(superAdmin)) as unknown as Record<string, unknown>[];
    expect(items.find((p) => p.id === odd)).toMatchObject({ issued_at: '2026-03-01T10:20:30Z', nominee, premium: { modal_factor: 0.0875 } });
    expect(new Set(items.map((p) => p.status)).size).toBeGreaterThanOrEqual(3);
    expect(items.some((p) => p.nominee === null) && items.some((p) => p.policy_number === null)).toBe(true);
    for (const item of items) {
      const { status_history: _history, ...read } = (await api(superAdmin, 'GET', `/policies/${String(item.id)}`)).json();
      expect(item).toEqual(read);
      expect(Object.keys(item)).toEqual(Object.keys(read));
    }
  });
});

describe('a senior agent\'s list: each team member\'s book merged', () => {
  let lead: AgentFixture;
  const book: { id: string; created_at: string; status: string; agent_id: string }[] = [];

  beforeAll(async () => {
    lead = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id] });
    const team = [lead];
    for (let i = 0; i < 3; i++) team.push(await createActiveAgent(ctx, { providerIds: [provider.id], managerAgentId: lead.agentId }));
    // Interleaved across the team, with instants shared between members (the id breaks the tie).
    for (let n = 0; n < 24; n++) {
      const seller = team[(n * 7) % team.length]!;
      const customerId = (await createCustomer(ctx, seller.agentId)).id;
      const createdAt = new Date(Date.UTC(2026, 2, 1) + Math.floor(n / 3) * 60_000);
      const status = n % 3 === 0 ? 'active' : 'draft';
      const id = await insertPolicy(ctx, { productId: product, providerId: provider.id, customerId, agentId: seller.agentId, createdBy: seller.userId, status, createdAt });
      book.push({ id, created_at: createdAt.toISOString(), status, agent_id: seller.agentId });
    }
  });

  const walk = async (query: string) => (await listAll(lead, query, 4)).map((p) => p.id);
  const ordered = (rows: typeof book, direction: 1 | -1) => [...rows]
    .sort((a, b) => direction * (a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id)))
    .map((p) => p.id);

  it('pages through the whole team\'s book in order, newest first and oldest first', async () => {
    expect(await walk('')).toEqual(ordered(book, -1));
    expect(await walk('&sort=created_at')).toEqual(ordered(book, 1));
  });

  it('applies filters and bounds inside each member\'s book', async () => {
    expect(await walk('&status=active')).toEqual(ordered(book.filter((p) => p.status === 'active'), -1));
    const member = book[1]!.agent_id;
    expect(await walk(`&agent_id=${member}&sort=created_at`)).toEqual(ordered(book.filter((p) => p.agent_id === member), 1));
    const bound = book[10]!.created_at;
    expect(await walk(`&created_to=${bound}`)).toEqual(ordered(book.filter((p) => p.created_at < bound), -1));
  });

  it('shows another senior none of this team\'s policies', async () => {
    const theirs = new Set(book.map((p) => p.id));
    expect((await listAll(senior)).filter((p) => theirs.has(p.id))).toEqual([]);
  });
});

describe('the list\'s page cache', () => {
  const firstPage = async (who: Who) => {
    const response = await api(who, 'GET', '/policies?limit=50');
    expect(response.statusCode).toBe(200);
    return response.json().items as { id: string; agent_id: string; term_years: number; version: number }[];
  };

  it('never answers one caller with another\'s page, even asked the same thing at the same moment', async () => {
    await firstPage(junior);
    await firstPage(stranger);
    const [mine, theirs, holders] = await Promise.all([firstPage(junior), firstPage(stranger), firstPage(policyholder)]);
    expect(mine.length).toBeGreaterThan(0);
    expect(theirs.length).toBeGreaterThan(0);
    expect(mine.every((p) => p.agent_id === junior.agentId)).toBe(true);
    expect(theirs.every((p) => p.agent_id === stranger.agentId)).toBe(true);
    expect(holders.some((p) => p.agent_id === stranger.agentId)).toBe(false);
  });

  it('serves a page asked for again from the cache, and counts it', async () => {
    await firstPage(senior);
    const hits = await pageCacheLookups(ctx.app, 'policy_list', 'hit');
    expect(await firstPage(senior)).toEqual(await firstPage(senior));
    expect(await pageCacheLookups(ctx.app, 'policy_list', 'hit')).toBe(hits + 2);
  });

  it('shows a draft created or edited through the API in the caller\'s very next page, and in its manager\'s', async () => {
    const before = await firstPage(junior);
    const draft = (await api(junior, 'POST', '/policies', draftBody())).json();
    const afterCreate = await firstPage(junior);
    expect(before.length).toBeLessThan(50);
    expect(afterCreate.map((p) => p.id).sort()).toEqual([draft.id, ...before.map((p) => p.id)].sort());
    expect((await api(junior, 'PUT', `/policies/${draft.id}`, { term_years: 25 }, { 'if-match': 'W/"1"' })).statusCode).toBe(200);
    expect((await firstPage(junior)).find((p) => p.id === draft.id)).toMatchObject({ term_years: 25, version: 2 });
    // The senior agent's page holds its team's policies: the junior's edit reaches it too.
    expect((await firstPage(senior)).find((p) => p.id === draft.id)).toMatchObject({ term_years: 25, version: 2 });
  });
});

describe('the policy read\'s cache', () => {
  const read = async (who: Who, id: string) => {
    const response = await api(who, 'GET', `/policies/${id}`);
    return { status: response.statusCode, etag: response.headers.etag, body: response.body };
  };
  const newDraft = async () => {
    const created = await api(junior, 'POST', '/policies', draftBody());
    expect(created.statusCode, created.body).toBe(201);
    return created.json().id as string;
  };

  it('answers a policy read again from the cache, the same text and ETag, and counts it', async () => {
    const id = await newDraft();
    const first = await read(junior, id);
    expect(first).toMatchObject({ status: 200, etag: 'W/"1"' });
    const hits = await pageCacheLookups(ctx.app, 'policy_detail', 'hit');
    expect(await read(junior, id)).toEqual(first);
    expect(await pageCacheLookups(ctx.app, 'policy_detail', 'hit')).toBe(hits + 1);
    expect(JSON.parse(first.body)).toMatchObject({ id, status: 'draft', version: 1, status_history: [{ from_status: null, to_status: 'draft' }] });
  });

  it('shows an edit and a status change in the very next read: fields, history and ETag', async () => {
    const id = await newDraft();
    await read(junior, id);
    await read(junior, id);
    expect((await api(junior, 'PUT', `/policies/${id}`, { term_years: 25 }, { 'if-match': 'W/"1"' })).statusCode).toBe(200);
    const edited = await read(junior, id);
    expect(edited.etag).toBe('W/"2"');
    expect(JSON.parse(edited.body)).toMatchObject({ term_years: 25, version: 2 });
    const moved = await api(junior, 'POST', `/policies/${id}/transitions`, { to: 'submitted' });
    expect(moved.statusCode, moved.body).toBe(200);
    const submitted = await read(junior, id);
    expect(submitted.etag).toBe(moved.headers.etag);
    expect(submitted.body).toBe(moved.body);
    expect(JSON.parse(submitted.body).status_history.map((h: { to_status: string }) => h.to_status)).toEqual(['draft', 'submitted']);
  });

  it('never answers a caller outside the policy\'s scope from a read cached for someone inside it, even at the same moment', async () => {
    const id = await newDraft();
    expect((await read(junior, id)).status).toBe(200);
    const [mine, manager, outsider, elsewhere, holder] = await Promise.all([
      read(junior, id), read(senior, id), read(stranger, id), read(otherSeller, id), read(policyholder, id),
    ]);
    expect(mine.status).toBe(200);
    expect(manager.body).toBe(mine.body);
    expect(outsider.status).toBe(404);
    expect(elsewhere.status).toBe(404);
    // The junior's customer carries this policyholder's phone number: the policy is theirs to see too.
    expect(holder.body).toBe(mine.body);
    expect((await read(stranger, id)).status).toBe(404);
  });
});

