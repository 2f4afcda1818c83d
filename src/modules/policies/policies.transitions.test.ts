import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signInAs, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import {
  createActiveAgent, createCustomer, createProvider, createRegion, signInProviderAdmin, signInRegionalManager, type AgentFixture, type ProviderFixture,
} from '../../../test/helpers/factories-directory.js';
import { createExampleProduct, insertCommissionRule, insertPolicy, type PolicyRowOptions } from '../../../test/helpers/factories-policies.js';
import { POLICY_STATUSES, type PolicyStatus } from '../../db/types.js';
import { isValidPolicyNumber } from './policy-number.js';
import { POLICY_TRANSITIONS } from './policies.state-machine.js';

let ctx: TestContext;
let provider: ProviderFixture;
let otherProvider: ProviderFixture;
let product: string;
let manager: AgentFixture;
let seller: AgentFixture;
let providerAdmin: SignedIn;
let otherProviderAdmin: SignedIn;
let regionalManager: SignedIn;
let superAdmin: SignedIn;
let policyholder: SignedIn;
let customer: string;

const DAY = 86_400_000;
type Who = { headers: { authorization: string } };
const api = (who: Who, method: 'GET' | 'POST', url: string, payload?: object) =>
  ctx.app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });
const move = (who: Who, id: string, to: PolicyStatus, reason?: string) => api(who, 'POST', `/policies/${id}/transitions`, { to, ...(reason ? { reason } : {}) });

const policyIn = (status: PolicyStatus, extra: Partial<PolicyRowOptions> = {}) =>
  insertPolicy(ctx, { productId: product, providerId: provider.id, customerId: customer, agentId: seller.agentId, createdBy: seller.userId, status, ...extra });
const statusOf = async (id: string) => (await ctx.database.db.selectFrom('policies').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
const historyOf = (id: string) => ctx.database.db.selectFrom('policy_status_history').selectAll().where('policy_id', '=', id).orderBy('created_at').execute();
const commissionsOf = (id: string) => ctx.database.db.selectFrom('commissions')
  .select(['agent_id', 'kind', 'policy_year', 'basis_paise', 'rate_bp', 'amount_paise', 'status', 'clawed_back_at']).where('policy_id', '=', id).orderBy('kind').orderBy('policy_year').execute();

/** DOMAIN.md's lifecycle, written out independently of the code's table: [from, to, who moves it]. */
const ALLOWED: [PolicyStatus, PolicyStatus, 'agent' | 'admin'][] = [
  ['draft', 'submitted', 'agent'], ['draft', 'cancelled', 'agent'],
  ['submitted', 'approved', 'admin'], ['submitted', 'rejected', 'admin'],
  ['approved', 'active', 'admin'],
  ['active', 'lapsed', 'admin'], ['active', 'surrendered', 'admin'], ['active', 'matured', 'admin'], ['active', 'cancelled', 'admin'],
  ['lapsed', 'active', 'admin'], ['lapsed', 'terminated', 'admin'],
];
const isAllowed = (from: PolicyStatus, to: PolicyStatus) => ALLOWED.some(([f, t]) => f === from && t === to);
const REFUSED = POLICY_STATUSES.flatMap((from) => POLICY_STATUSES.filter((to) => !isAllowed(from, to)).map((to) => [from, to] as const));

beforeAll(async () => {
  ctx = await buildTestApp();
  ctx.clock.set('2026-03-31T20:00:00Z'); // 1 April 2026, 01:30 in India
  provider = await createProvider(ctx, { code: 'BIMA' });
  otherProvider = await createProvider(ctx);
  product = await createExampleProduct(ctx, provider.id);
  manager = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id] });
  seller = await createActiveAgent(ctx, { providerIds: [provider.id], managerAgentId: manager.agentId });
  providerAdmin = await signInProviderAdmin(ctx, provider.id);
  otherProviderAdmin = await signInProviderAdmin(ctx, otherProvider.id);
  regionalManager = await signInRegionalManager(ctx, (await createRegion(ctx)).id);
  superAdmin = await signInAs(ctx, 'super_admin');
  policyholder = await signInAs(ctx, 'policyholder');
  customer = (await createCustomer(ctx, seller.agentId, { dateOfBirth: '1996-04-01', phone: policyholder.phone })).id;
}, 60_000);

afterAll(async () => {
  await ctx?.close();
});

describe('the state machine table', () => {
  it('holds exactly the moves of DOMAIN.md', () => {
    const inCode = POLICY_STATUSES.flatMap((from) => Object.keys(POLICY_TRANSITIONS[from]).map((to) => `${from}->${to}`)).sort();
    expect(inCode).toEqual(ALLOWED.map(([from, to]) => `${from}->${to}`).sort());
  });
});

describe('every allowed move', () => {
  it.each(ALLOWED)('%s -> %s is made by its %s and recorded with who, when and why', async (from, to, who) => {
    const id = await policyIn(from);
    const mover = who === 'agent' ? seller : providerAdmin;
    const response = await move(mover, id, to, `reason for ${to}`);
    expect(response.statusCode).toBe(200);
    expect(response.json().status).toBe(to);
    expect(response.json().status_history.at(-1)).toEqual({ from_status: from, to_status: to, reason: `reason for ${to}`, actor_id: mover.userId, created_at: '2026-03-31T20:00:00Z' });
    const audit = await ctx.database.db.selectFrom('audit_events').select(['action', 'actor_id', 'changes']).where('entity_id', '=', id).execute();
    expect(audit).toEqual([expect.objectContaining({ action: 'policy.status_changed', actor_id: mover.userId, changes: expect.objectContaining({ status: [from, to] }) })]);
  });

  it.each(ALLOWED)('%s -> %s may also be made by a super_admin', async (from, to) => {
    const id = await policyIn(from);
    expect((await move(superAdmin, id, to)).statusCode).toBe(200);
    expect(await statusOf(id)).toBe(to);
  });

  it.each(ALLOWED)('%s -> %s is forbidden to the other parties in scope (403) and hidden from those outside (404)', async (from, to, who) => {
    const id = await policyIn(from);
    const forbidden = who === 'agent' ? [providerAdmin, manager, policyholder] : [seller, manager, policyholder];
    for (const party of forbidden) {
      const response = await move(party, id, to);
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('FORBIDDEN');
    }
    expect((await move(otherProviderAdmin, id, to)).statusCode).toBe(404);
    expect(await statusOf(id)).toBe(from);
    expect(await historyOf(id)).toEqual([]);
  });
});

describe('every refused move', () => {
  it.each(REFUSED)('%s -> %s is INVALID_TRANSITION, even for a super_admin', async (from, to) => {
    const id = await policyIn(from);
    const response = await move(superAdmin, id, to);
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('INVALID_TRANSITION');
    expect(await statusOf(id)).toBe(from);
    expect(await historyOf(id)).toEqual([]);
  });
});

describe('time rules', () => {
  it('cancels an active policy within the 30-day free-look, not after', async () => {
    const now = ctx.clock.now().getTime();
    const day30 = await policyIn('active', { issuedAt: new Date(now - 30 * DAY) });
    expect((await move(providerAdmin, day30, 'cancelled')).statusCode).toBe(200);
    const day31 = await policyIn('active', { issuedAt: new Date(now - 31 * DAY) });
    const late = await move(providerAdmin, day31, 'cancelled');
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'INVALID_TRANSITION', detail: expect.stringMatching(/free-look period ended on 2026-03-31/) });
  });

  it('revives a lapsed policy within 5 years of lapse, not after, and recomputes its due dates', async () => {
    const now = ctx.clock.now().getTime();
    const inTime = await policyIn('lapsed', { statusChangedAt: new Date(now - 5 * 365 * DAY - DAY) }); // 5 calendar years (one leap day) ago
    const revived = await move(providerAdmin, inTime, 'active');
    expect(revived.statusCode).toBe(200);
    // start 2026-04-01, annual: the next instalment after today (2026-04-01) is 2027-04-01, 30 days' grace
    expect(revived.json()).toMatchObject({ next_due_date: '2027-04-01', grace_end_date: '2027-05-01' });
    const tooLate = await policyIn('lapsed', { statusChangedAt: new Date(now - 5 * 365 * DAY - 2 * DAY) });
    const refused = await move(providerAdmin, tooLate, 'active');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toMatch(/within 5 years/);
  });
});

describe('the life of a policy through the API', () => {
  const draft = async (who: AgentFixture, body: Record<string, unknown> = {}) => {
    const response = await api(who, 'POST', '/policies', { product_id: product, customer_id: customer, sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'monthly', ...body });
    expect(response.statusCode).toBe(201);
    return response.json().id as string;
  };
  const approved = async (body: Record<string, unknown> = {}) => {
    const id = await draft(seller, body);
    expect((await move(seller, id, 'submitted')).statusCode).toBe(200);
    expect((await move(providerAdmin, id, 'approved', 'documents complete')).statusCode).toBe(200);
    return id;
  };

  it('is issued with a checked policy number, a start date of today in India and its due dates', async () => {
    const id = await approved({ nominee: { name: 'Ravi Verma', relationship: 'spouse' } });
    const response = await move(providerAdmin, id, 'active');
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('W/"4"');
    const policy = response.json();
    expect(policy.policy_number).toMatch(/^BIMA-2026-\d{9}$/);
    expect(isValidPolicyNumber(policy.policy_number)).toBe(true);
    expect(policy).toMatchObject({
      status: 'active', issued_at: '2026-03-31T20:00:00Z', start_date: '2026-04-01', maturity_date: '2046-04-01',
      next_due_date: '2026-05-01', grace_end_date: '2026-05-16', nominee: { name: 'Ravi Verma', relationship: 'spouse', share_percent: 100 },
      premium: { age: 30, installment_paise: 54_688, total_installment_paise: 54_688, annualized_total_paise: 656_256 },
    });
    expect(policy.status_history.map((h: { to_status: string }) => h.to_status)).toEqual(['draft', 'submitted', 'approved', 'active']);
  });

  it('gives an annual policy a year to its first due date and 30 days of grace', async () => {
    const id = await approved({ premium_mode: 'annual' });
    expect((await move(providerAdmin, id, 'active')).json()).toMatchObject({ next_due_date: '2027-04-01', grace_end_date: '2027-05-01' });
  });

  it('prices the premium again at issue, at the age on the start date', async () => {
    // The row was priced at age 30; the customer is 31 (nearer birthday) on the issue date.
    const older = (await createCustomer(ctx, seller.agentId, { dateOfBirth: '1995-10-01' })).id;
    const id = await policyIn('approved', { customerId: older });
    const issued = await move(providerAdmin, id, 'active');
    expect(issued.json().premium).toMatchObject({ age: 31, base_annual_paise: 1_200_000, installment_paise: 1_200_000, annualized_total_paise: 1_200_000 });
  });

  it('is not issued while the seller\'s licence has expired, and consumes no number', async () => {
    const lapsedSeller = await createActiveAgent(ctx, { providerIds: [provider.id] });
    const ownCustomer = (await createCustomer(ctx, lapsedSeller.agentId)).id;
    const id = await insertPolicy(ctx, { productId: product, providerId: provider.id, customerId: ownCustomer, agentId: lapsedSeller.agentId, createdBy: lapsedSeller.userId, status: 'approved' });
    await ctx.database.db.updateTable('agents').set({ license_expiry: '2026-03-31' }).where('id', '=', lapsedSeller.agentId).execute();
    const response = await move(providerAdmin, id, 'active');
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ code: 'BUSINESS_RULE_VIOLATED', errors: [{ path: '/agent/license_expiry', message: expect.stringMatching(/^AGENT_CANNOT_SELL: .*licence expired on 2026-03-31/) }] });
    expect(await statusOf(id)).toBe('approved');
  });

  it('issues two policies at once with distinct numbers', async () => {
    const [a, b] = [await approved(), await approved()];
    const responses = await Promise.all([move(providerAdmin, a, 'active'), move(providerAdmin, b, 'active')]);
    expect(responses.map((r) => r.statusCode)).toEqual([200, 200]);
    const numbers = responses.map((r) => r.json().policy_number);
    expect(new Set(numbers).size).toBe(2);
    expect(numbers.every(isValidPolicyNumber)).toBe(true);
  });

  it('issues the same policy once when two admins issue it at the same moment', async () => {
    const id = await approved();
    const responses = await Promise.all([move(providerAdmin, id, 'active'), move(superAdmin, id, 'active')]);
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(responses.find((r) => r.statusCode === 409)!.json().code).toBe('INVALID_TRANSITION');
    expect((await historyOf(id)).filter((h) => h.to_status === 'active')).toHaveLength(1);
    const winner = responses.find((r) => r.statusCode === 200)!.json();
    expect((await api(superAdmin, 'GET', `/policies/${id}`)).json().policy_number).toBe(winner.policy_number);
  });

  it('lets only one of two racing decisions on a submitted policy win', async () => {
    const id = await draft(seller);
    await move(seller, id, 'submitted');
    const responses = await Promise.all([move(providerAdmin, id, 'approved'), move(superAdmin, id, 'rejected')]);
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(await historyOf(id)).toHaveLength(3);
  });

  it('honours If-Match on a transition', async () => {
    const id = await draft(seller);
    const stale = await ctx.app.inject({ method: 'POST', url: `/api/v1/policies/${id}/transitions`, headers: { ...seller.headers, 'if-match': 'W/"7"' }, payload: { to: 'submitted' } });
    expect(stale.statusCode).toBe(412);
    const fresh = await ctx.app.inject({ method: 'POST', url: `/api/v1/policies/${id}/transitions`, headers: { ...seller.headers, 'if-match': 'W/"1"' }, payload: { to: 'submitted' } });
    expect(fresh.statusCode).toBe(200);
  });

  it('refuses an unknown target status', async () => {
    const id = await draft(seller);
    expect((await move(seller, id, 'archived' as PolicyStatus)).statusCode).toBe(422);
  });
});

describe('commissions', () => {
  let paying: ProviderFixture;
  let boss: AgentFixture;
  let agent: AgentFixture;
  let agentCustomer: string;
  let payingAdmin: SignedIn;

  beforeAll(async () => {
    paying = await createProvider(ctx, { type: 'life' });
    await insertCommissionRule(ctx, paying.id, { first_year_bp: 3502, renewal_bp: 502, override_bp: 750 });
    await insertCommissionRule(ctx, paying.id, { kind: 'endowment', first_year_bp: 2000, renewal_bp: 300 });
    boss = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [paying.id] });
    agent = await createActiveAgent(ctx, { providerIds: [paying.id], managerAgentId: boss.agentId });
    agentCustomer = (await createCustomer(ctx, agent.agentId, { dateOfBirth: '1996-04-01' })).id;
    payingAdmin = await signInProviderAdmin(ctx, paying.id);
  });

  const issue = async (productId: string, premiumMode: string, who: AgentFixture = agent, customerId = agentCustomer) => {
    const created = await api(who, 'POST', '/policies', { product_id: productId, customer_id: customerId, sum_assured_paise: 50_000_000, term_years: 20, premium_mode: premiumMode });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    await move(who, id, 'submitted');
    await move(payingAdmin, id, 'approved');
    const issued = await move(payingAdmin, id, 'active');
    expect(issued.statusCode).toBe(200);
    return id;
  };

  it('earns the seller first-year commission and its manager an override, to the paise', async () => {
    const id = await issue(await createExampleProduct(ctx, paying.id), 'half_yearly');
    // basis: 625,000 × 0.51 = 318,750 per half-year × 2 = 637,500 net of tax
    // seller 637,500 × 35.02% = 223,252.5 -> 223,253; manager 637,500 × 7.5% = 47,812.5 -> 47,813
    expect(await commissionsOf(id)).toEqual([
      { agent_id: agent.agentId, kind: 'first_year', policy_year: 1, basis_paise: 637_500, rate_bp: 3502, amount_paise: 223_253, status: 'earned', clawed_back_at: null },
      { agent_id: boss.agentId, kind: 'override', policy_year: 1, basis_paise: 637_500, rate_bp: 750, amount_paise: 47_813, status: 'earned', clawed_back_at: null },
    ]);
  });

  it('takes the basis net of tax', async () => {
    const taxed = await createExampleProduct(ctx, paying.id, { tax_rate_bp: 1800 });
    const id = await issue(taxed, 'annual');
    // premium 625,000 + 112,500 tax; commission on 625,000 only: × 35.02% = 218,875
    const rows = await commissionsOf(id);
    expect(rows[0]).toMatchObject({ kind: 'first_year', basis_paise: 625_000, amount_paise: 218_875 });
  });

  it('uses the schedule of the product kind before the provider default, which may have no override', async () => {
    const endowment = await createExampleProduct(ctx, paying.id, { kind: 'endowment' });
    const id = await issue(endowment, 'annual');
    expect(await commissionsOf(id)).toEqual([
      { agent_id: agent.agentId, kind: 'first_year', policy_year: 1, basis_paise: 625_000, rate_bp: 2000, amount_paise: 125_000, status: 'earned', clawed_back_at: null },
    ]);
  });

  it('earns nothing where the provider has no schedule', async () => {
    const bare = await createProvider(ctx, { type: 'health' });
    const bareSeller = await createActiveAgent(ctx, { providerIds: [bare.id] });
    const bareCustomer = (await createCustomer(ctx, bareSeller.agentId)).id;
    const bareProduct = await createExampleProduct(ctx, bare.id, { kind: 'health' });
    const id = (await api(bareSeller, 'POST', '/policies', { product_id: bareProduct, customer_id: bareCustomer, sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'annual' })).json().id;
    await move(bareSeller, id, 'submitted');
    const admin = await signInProviderAdmin(ctx, bare.id);
    await move(admin, id, 'approved');
    expect((await move(admin, id, 'active')).statusCode).toBe(200);
    expect(await commissionsOf(id)).toEqual([]);
  });

  it('claws both back on a free-look cancellation', async () => {
    const id = await issue(await createExampleProduct(ctx, paying.id), 'half_yearly');
    const cancelled = await move(payingAdmin, id, 'cancelled', 'free-look: customer changed mind');
    expect(cancelled.statusCode).toBe(200);
    const rows = await commissionsOf(id);
    expect(rows.map((r) => [r.kind, r.amount_paise, r.status])).toEqual([['first_year', 223_253, 'clawed_back'], ['override', 47_813, 'clawed_back']]);
    expect(rows.every((r) => r.clawed_back_at?.toISOString() === '2026-03-31T20:00:00.000Z')).toBe(true);
  });

  it('earns renewal and override commissions once per policy year', async () => {
    const id = await issue(await createExampleProduct(ctx, paying.id), 'half_yearly');
    const first = await api(payingAdmin, 'POST', `/policies/${id}/renewals`, { policy_year: 2 });
    expect(first.statusCode).toBe(201);
    // 637,500 × 5.02% = 32,002.5 -> 32,003; override 47,813 again
    expect(first.json().commissions.map((c: { kind: string; amount_paise: number; policy_year: number }) => [c.kind, c.policy_year, c.amount_paise]))
      .toEqual([['override', 2, 47_813], ['renewal', 2, 32_003]]);
    const again = await api(payingAdmin, 'POST', `/policies/${id}/renewals`, { policy_year: 2 });
    expect(again.statusCode).toBe(200);
    expect(again.json().commissions).toEqual(first.json().commissions);
    expect((await commissionsOf(id)).filter((c) => c.policy_year === 2)).toHaveLength(2);

    const bySystem = await ctx.app.services.policies.recordRenewal(id, 3);
    expect(bySystem.created).toBe(true);
    expect((await ctx.app.services.policies.recordRenewal(id, 3)).created).toBe(false);
  });

  it('records renewals only for active policies, in years 2..term, by the provider\'s admins', async () => {
    const id = await issue(await createExampleProduct(ctx, paying.id), 'annual');
    expect((await api(payingAdmin, 'POST', `/policies/${id}/renewals`, { policy_year: 1 })).statusCode).toBe(422);
    expect((await api(payingAdmin, 'POST', `/policies/${id}/renewals`, { policy_year: 21 })).statusCode).toBe(422);
    expect((await api(providerAdmin, 'POST', `/policies/${id}/renewals`, { policy_year: 2 })).statusCode).toBe(404);
    expect((await api(boss, 'POST', `/policies/${id}/renewals`, { policy_year: 2 })).statusCode).toBe(403);
    expect((await api(agent, 'POST', `/policies/${id}/renewals`, { policy_year: 2 })).statusCode).toBe(403);
    expect((await api(superAdmin, 'POST', `/policies/${id}/renewals`, { policy_year: 2 })).statusCode).toBe(201);
    const draft = (await api(agent, 'POST', '/policies', { product_id: await createExampleProduct(ctx, paying.id), customer_id: agentCustomer, sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'annual' })).json().id;
    expect((await api(payingAdmin, 'POST', `/policies/${draft}/renewals`, { policy_year: 2 })).statusCode).toBe(409);
  });
});

describe('reading transitions back', () => {
  it('a regional manager outside the seller\'s region sees nothing to move', async () => {
    const id = await policyIn('submitted');
    expect((await move(regionalManager, id, 'approved')).statusCode).toBe(404);
  });
});
