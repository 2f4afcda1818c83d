import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createUser, signInAs, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import {
  createActiveAgent, createCustomer, createProduct, createProvider, createRegion, signInProviderAdmin, signInRegionalManager,
  type AgentFixture, type ProviderFixture, type RegionFixture,
} from '../../../test/helpers/factories-directory.js';
import { createExampleProduct, insertPolicy } from '../../../test/helpers/factories-policies.js';
import type { AgentStatus } from '../../db/types.js';
import { newId } from '../../shared/ids.js';

/**
 * Someone else's record is invisible: a caller whose scope does not cover it
 * gets the 404 of a record that does not exist (403 only where the caller
 * lacks the permission for the action altogether), nothing changes, and no
 * list shows it. Each refusal here is paired with the same request from a
 * caller in scope, so the 404 is the scope's and not a malformed request's.
 */
let ctx: TestContext;
let superAdmin: SignedIn;
let provider: ProviderFixture;
/** north holds northCity; south is a sibling of north. */
let north: RegionFixture;
let northCity: RegionFixture;
let south: RegionFixture;
let northManager: SignedIn;
let southManager: SignedIn;

type Who = { headers: Record<string, string> };
type Method = 'GET' | 'POST' | 'PUT';
const api = (who: Who, method: Method, url: string, payload?: object) =>
  ctx.app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload === undefined ? {} : { payload }) });
const idsOf = (response: { json(): { items: Array<{ id: string }> } }) => response.json().items.map((item) => item.id).sort();

/**
 * `path(id)` for a record `who` may not see answers exactly as it does for an
 * id that exists nowhere: the same 404 problem, request id aside.
 */
async function expectHidden(who: Who, method: Method, path: (id: string) => string, id: string, payload?: object): Promise<void> {
  const outOfScope = await api(who, method, path(id), payload);
  const missing = await api(who, method, path(newId()), payload);
  expect(outOfScope.statusCode, outOfScope.body).toBe(404);
  expect(missing.statusCode).toBe(404);
  const { request_id: _a, ...seen } = outOfScope.json();
  const { request_id: _b, ...absent } = missing.json();
  expect(seen).toEqual(absent);
}

const agentRow = (id: string) => ctx.database.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const customerRow = (id: string) => ctx.database.db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const userRow = (id: string) => ctx.database.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const policyRow = (id: string) => ctx.database.db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const historyOf = (id: string) => ctx.database.db.selectFrom('policy_status_history').select('id').where('policy_id', '=', id).execute();

async function rename(agent: AgentFixture, fullName: string): Promise<void> {
  await ctx.database.db.updateTable('users').set({ full_name: fullName }).where('id', '=', agent.userId).execute();
}

/** Verified licence and PAN documents, so an approval in scope can go through. */
async function verifyDocuments(agentId: string, reviewer: string): Promise<void> {
  for (const type of ['license', 'pan'] as const) {
    await ctx.database.db.insertInto('agent_documents').values({
      id: newId(), agent_id: agentId, type, content_type: 'application/pdf', size_bytes: 1024, sha256: '0'.repeat(64), original_name: null, aadhaar_masked: null,
      status: 'verified', review_notes: null, reviewed_by: reviewer, reviewed_at: ctx.clock.now(), uploaded_by: reviewer,
    }).execute();
  }
}

beforeAll(async () => {
  ctx = await buildTestApp();
  superAdmin = await signInAs(ctx, 'super_admin');
  provider = await createProvider(ctx, { type: 'life' });
  north = await createRegion(ctx);
  northCity = await createRegion(ctx, { parent: north });
  south = await createRegion(ctx);
  northManager = await signInRegionalManager(ctx, north.id);
  southManager = await signInRegionalManager(ctx, south.id);
}, 60_000);

afterAll(async () => {
  await ctx?.close();
});

describe('agent changes by a regional manager of another region', () => {
  it('PUT /agents/{id} is a 404 like a missing agent and leaves the row unchanged; the agent\'s own region\'s manager may make the change', async () => {
    const agent = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: northCity.id });
    const before = await agentRow(agent.agentId);
    for (const payload of [{ license_expiry: '2098-12-31' }, { region_id: south.id }]) {
      await expectHidden(southManager, 'PUT', (id) => `/agents/${id}`, agent.agentId, payload);
    }
    expect(await agentRow(agent.agentId)).toEqual(before);

    const allowed = await api(northManager, 'PUT', `/agents/${agent.agentId}`, { license_expiry: '2098-12-31' });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect((await agentRow(agent.agentId)).license_expiry).toBe('2098-12-31');
  });

  const MOVES: Array<[string, AgentStatus, AgentStatus]> = [
    ['approve', 'pending_approval', 'active'],
    ['suspend', 'active', 'suspended'],
    ['reinstate', 'suspended', 'active'],
    ['deactivate', 'active', 'inactive'],
  ];
  it.each(MOVES)('POST /agents/{id}/%s is a 404 like a missing agent and the agent stays %s; its own region\'s manager moves it to %s', async (action, from, to) => {
    const agent = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: northCity.id, status: from });
    if (action === 'approve') await verifyDocuments(agent.agentId, superAdmin.userId);
    const before = await agentRow(agent.agentId);
    const payload = { reason: 'Not my region' };
    await expectHidden(southManager, 'POST', (id) => `/agents/${id}/${action}`, agent.agentId, payload);
    expect(await agentRow(agent.agentId)).toEqual(before);
    const seen = await api(superAdmin, 'GET', `/agents/${agent.agentId}`);
    expect(seen.json().status).toBe(from);

    const allowed = await api(northManager, 'POST', `/agents/${agent.agentId}/${action}`, payload);
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect((await agentRow(agent.agentId)).status).toBe(to);
  });
});

describe('GET /agents/{id}/team', () => {
  let lead: AgentFixture;
  let otherProvider: ProviderFixture;
  let lifeAdmin: SignedIn;
  /** Reports to lead: in north's tree and the provider's; in south (the provider's); in north with the other provider only. */
  let inBoth: AgentFixture;
  let inSouth: AgentFixture;
  let otherProviderOnly: AgentFixture;

  beforeAll(async () => {
    otherProvider = await createProvider(ctx, { type: 'health' });
    lead = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id, otherProvider.id], regionId: north.id });
    inBoth = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: northCity.id, managerAgentId: lead.agentId });
    inSouth = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: south.id, managerAgentId: lead.agentId });
    otherProviderOnly = await createActiveAgent(ctx, { providerIds: [otherProvider.id], regionId: north.id, managerAgentId: lead.agentId });
    lifeAdmin = await signInProviderAdmin(ctx, provider.id);
  });

  it('of an agent outside the caller\'s scope is a 404 like a missing agent, for another region\'s manager and another provider\'s admin', async () => {
    const stranger = await signInProviderAdmin(ctx, (await createProvider(ctx, { type: 'general' })).id);
    const elsewhere = await signInRegionalManager(ctx, (await createRegion(ctx)).id);
    for (const who of [stranger, elsewhere]) await expectHidden(who, 'GET', (id) => `/agents/${id}/team`, lead.agentId);
    const southLead = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id], regionId: south.id });
    await expectHidden(northManager, 'GET', (id) => `/agents/${id}/team`, southLead.agentId);
  });

  it('of an agent in scope lists only the members the caller may see: a regional manager its region\'s, a provider admin its provider\'s', async () => {
    const all = await api(superAdmin, 'GET', `/agents/${lead.agentId}/team`);
    expect(idsOf(all)).toEqual([inBoth.agentId, inSouth.agentId, otherProviderOnly.agentId].sort());
    const byManager = await api(northManager, 'GET', `/agents/${lead.agentId}/team`);
    expect(byManager.statusCode).toBe(200);
    expect(idsOf(byManager)).toEqual([inBoth.agentId, otherProviderOnly.agentId].sort());
    const byAdmin = await api(lifeAdmin, 'GET', `/agents/${lead.agentId}/team`);
    expect(byAdmin.statusCode).toBe(200);
    expect(idsOf(byAdmin)).toEqual([inBoth.agentId, inSouth.agentId].sort());
  });
});

describe('GET /agents, the list', () => {
  /** Fresh regions and providers: every agent of their scopes is known here. */
  let east: RegionFixture;
  let west: RegionFixture;
  let eastProvider: ProviderFixture;
  let westProvider: ProviderFixture;
  let inside: AgentFixture;
  let outside: AgentFixture;
  let eastManager: SignedIn;
  let eastAdmin: SignedIn;
  const list = (who: Who, query = '') => api(who, 'GET', `/agents?limit=100${query}`);

  beforeAll(async () => {
    east = await createRegion(ctx);
    const eastCity = await createRegion(ctx, { parent: east });
    west = await createRegion(ctx);
    eastProvider = await createProvider(ctx, { type: 'life' });
    westProvider = await createProvider(ctx, { type: 'life' });
    inside = await createActiveAgent(ctx, { providerIds: [eastProvider.id], regionId: eastCity.id });
    outside = await createActiveAgent(ctx, { providerIds: [westProvider.id], regionId: west.id });
    await rename(inside, 'Zephyrine Inside');
    await rename(outside, 'Zephyrine Outside');
    eastManager = await signInRegionalManager(ctx, east.id);
    eastAdmin = await signInProviderAdmin(ctx, eastProvider.id);
  });

  it('the outside agent exists and matches every filter used below, for a super_admin', async () => {
    expect(idsOf(await list(superAdmin, '&q=Zephyrine'))).toEqual([inside.agentId, outside.agentId].sort());
    expect(idsOf(await list(superAdmin, `&q=${outside.agentCode}`))).toEqual([outside.agentId]);
    expect(idsOf(await list(superAdmin, `&region_id=${west.id}`))).toEqual([outside.agentId]);
    expect(idsOf(await list(superAdmin, `&provider_id=${westProvider.id}`))).toEqual([outside.agentId]);
  });

  it('a regional manager lists its region\'s agents only: unfiltered, by name, by the outsider\'s code, and by another region', async () => {
    expect(idsOf(await list(eastManager))).toEqual([inside.agentId]);
    expect(idsOf(await list(eastManager, '&q=Zephyrine'))).toEqual([inside.agentId]);
    expect(idsOf(await list(eastManager, `&q=${encodeURIComponent('Zephyrine Outside')}`))).toEqual([]);
    expect(idsOf(await list(eastManager, `&q=${outside.agentCode}`))).toEqual([]);
    expect(idsOf(await list(eastManager, `&q=${outside.agentCode!.toLowerCase()}`))).toEqual([]);
    const byRegion = await list(eastManager, `&region_id=${west.id}`);
    expect(byRegion.statusCode).toBe(200);
    expect(idsOf(byRegion)).toEqual([]);
    expect(idsOf(await list(eastManager, `&region_id=${west.id}&q=Zephyrine`))).toEqual([]);
  });

  it('a provider admin lists agents linked to its provider only: unfiltered, by name, by the outsider\'s code, region or provider', async () => {
    expect(idsOf(await list(eastAdmin))).toEqual([inside.agentId]);
    expect(idsOf(await list(eastAdmin, '&q=Zephyrine'))).toEqual([inside.agentId]);
    expect(idsOf(await list(eastAdmin, `&q=${outside.agentCode}`))).toEqual([]);
    expect(idsOf(await list(eastAdmin, `&region_id=${west.id}`))).toEqual([]);
    expect(idsOf(await list(eastAdmin, `&provider_id=${westProvider.id}`))).toEqual([]);
  });
});

describe('POST /policies/{id}/transitions by agents who neither sold the policy nor manage its seller', () => {
  let lead: AgentFixture;
  let seller: AgentFixture;
  let peer: AgentFixture;
  let otherLead: AgentFixture;
  let product: string;
  let customer: string;

  beforeAll(async () => {
    product = await createExampleProduct(ctx, provider.id);
    lead = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id], regionId: north.id });
    seller = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: north.id, managerAgentId: lead.agentId });
    // Same provider and region as the seller: only the selling and reporting lines set them apart.
    peer = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: north.id, managerAgentId: lead.agentId });
    otherLead = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id], regionId: north.id });
    await createActiveAgent(ctx, { providerIds: [provider.id], regionId: north.id, managerAgentId: otherLead.agentId });
    customer = (await createCustomer(ctx, seller.agentId, { dateOfBirth: '1996-04-01' })).id;
  });

  const callers = [['another junior agent', () => peer], ['a senior agent who does not manage the seller', () => otherLead]] as const;
  it.each(callers)('%s gets a 404 like a missing policy, and the draft stays a draft; the seller then submits it', async (_, caller) => {
    const id = await insertPolicy(ctx, { productId: product, providerId: provider.id, customerId: customer, agentId: seller.agentId, createdBy: seller.userId, status: 'draft' });
    const before = await policyRow(id);
    for (const to of ['submitted', 'cancelled']) {
      await expectHidden(caller(), 'POST', (policyId) => `/policies/${policyId}/transitions`, id, { to, reason: 'Not mine' });
    }
    expect(await policyRow(id)).toEqual(before);
    expect(await historyOf(id)).toEqual([]);

    const allowed = await api(seller, 'POST', `/policies/${id}/transitions`, { to: 'submitted' });
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect((await policyRow(id)).status).toBe('submitted');
  });
});

describe('PUT /customers/{id}', () => {
  let lead: AgentFixture;
  let owner: AgentFixture;
  let otherLead: AgentFixture;
  let customer: string;
  const change = { full_name: 'Taken Over' };

  beforeAll(async () => {
    lead = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id], regionId: northCity.id });
    owner = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: northCity.id, managerAgentId: lead.agentId });
    otherLead = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id], regionId: northCity.id });
    await createActiveAgent(ctx, { providerIds: [provider.id], regionId: northCity.id, managerAgentId: otherLead.agentId });
    customer = (await createCustomer(ctx, owner.agentId, { fullName: 'Meera Iyer' })).id;
  });

  it('by a senior agent who does not manage the owning agent is a 404 like a missing customer, and the customer is unchanged', async () => {
    const before = await customerRow(customer);
    await expectHidden(otherLead, 'PUT', (id) => `/customers/${id}`, customer, change);
    expect(await customerRow(customer)).toEqual(before);
  });

  it('by a provider admin or regional manager: 403 in their scope (they may read customers, not write them), 404 outside it; the customer is unchanged', async () => {
    const before = await customerRow(customer);
    const lifeAdmin = await signInProviderAdmin(ctx, provider.id);
    for (const reader of [lifeAdmin, northManager]) {
      expect((await api(reader, 'GET', `/customers/${customer}`)).statusCode).toBe(200);
      const refused = await api(reader, 'PUT', `/customers/${customer}`, change);
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().code).toBe('FORBIDDEN');
    }
    const otherAdmin = await signInProviderAdmin(ctx, (await createProvider(ctx, { type: 'health' })).id);
    for (const outsider of [otherAdmin, southManager]) await expectHidden(outsider, 'PUT', (id) => `/customers/${id}`, customer, change);
    expect(await customerRow(customer)).toEqual(before);
  });

  it('by the owning agent\'s manager goes through (the request above is a valid one)', async () => {
    const allowed = await api(lead, 'PUT', `/customers/${customer}`, change);
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect((await customerRow(customer)).full_name).toBe('Taken Over');
  });
});

describe('PUT /users/{id}/status by a regional manager whose region does not cover the user', () => {
  const suspend = { status: 'suspended', reason: 'Complaint under review' };

  /** [the case, the region the user is placed in, the manager's region]: thunks, as beforeAll creates the regions after it.each reads this. */
  const CASES: Array<[string, () => RegionFixture, () => RegionFixture]> = [
    ['a user placed in a sibling region', () => south, () => north],
    ['a user placed in the parent of the manager\'s region', () => north, () => northCity],
  ];
  it.each(CASES)('%s: 404 like a missing user, and the user stays active; the manager of the user\'s region suspends it', async (_, regionOf, managerRegionOf) => {
    const manager = await signInRegionalManager(ctx, managerRegionOf().id);
    const target = await createUser(ctx, 'junior_agent', { regionId: regionOf().id });
    const before = await userRow(target.id);
    await expectHidden(manager, 'PUT', (id) => `/users/${id}/status`, target.id, suspend);
    expect(await userRow(target.id)).toEqual(before);

    const allowed = await api(await signInRegionalManager(ctx, regionOf().id), 'PUT', `/users/${target.id}/status`, suspend);
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect((await userRow(target.id)).status).toBe('suspended');
  });

  it('an agent whose agent record is in another region: 404, and it stays active; its own region\'s manager suspends it', async () => {
    const agent = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: south.id });
    const before = await userRow(agent.userId);
    await expectHidden(northManager, 'PUT', (id) => `/users/${id}/status`, agent.userId, suspend);
    expect(await userRow(agent.userId)).toEqual(before);

    const allowed = await api(southManager, 'PUT', `/users/${agent.userId}/status`, suspend);
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect((await userRow(agent.userId)).status).toBe('suspended');
  });
});

describe('GET /agents/{id}/commissions as a provider admin', () => {
  it('lists only the commissions of policies on the admin\'s own provider when the agent represents two; another provider\'s admin gets a 404', async () => {
    const life = await createProvider(ctx, { type: 'life' });
    const health = await createProvider(ctx, { type: 'health' });
    const agent = await createActiveAgent(ctx, { providerIds: [life.id, health.id], regionId: north.id });
    const lifeProduct = await createProduct(ctx, life.id);
    const healthProduct = await createProduct(ctx, health.id, { kind: 'health' });
    const customer = await createCustomer(ctx, agent.agentId);
    const base = { customerId: customer.id, agentId: agent.agentId, createdBy: agent.userId, status: 'active' as const };
    const lifePolicy = await insertPolicy(ctx, { ...base, productId: lifeProduct.id, providerId: life.id });
    const healthPolicy = await insertPolicy(ctx, { ...base, productId: healthProduct.id, providerId: health.id });
    const commission = async (policyId: string, kind: 'first_year' | 'renewal', amount: number) => {
      const id = newId();
      await ctx.database.db.insertInto('commissions').values({ id, policy_id: policyId, agent_id: agent.agentId, kind, basis_paise: 625_000, rate_bp: 2500, amount_paise: amount }).execute();
      return id;
    };
    const lifeCommissions = [await commission(lifePolicy, 'first_year', 156_250), await commission(lifePolicy, 'renewal', 31_250)];
    const healthCommissions = [await commission(healthPolicy, 'first_year', 50_000)];
    const commissionIds = (response: { json(): { items: Array<{ commission_id: string }> } }) => response.json().items.map((c) => c.commission_id).sort();
    const read = (who: Who) => api(who, 'GET', `/agents/${agent.agentId}/commissions?limit=100`);

    expect(commissionIds(await read(agent))).toEqual([...lifeCommissions, ...healthCommissions].sort());
    const byLife = await read(await signInProviderAdmin(ctx, life.id));
    expect(byLife.statusCode).toBe(200);
    expect(commissionIds(byLife)).toEqual([...lifeCommissions].sort());
    expect(byLife.json().items.every((c: { policy_id: string }) => c.policy_id === lifePolicy)).toBe(true);
    expect(commissionIds(await read(await signInProviderAdmin(ctx, health.id)))).toEqual(healthCommissions);

    const stranger = await signInProviderAdmin(ctx, (await createProvider(ctx, { type: 'general' })).id);
    await expectHidden(stranger, 'GET', (id) => `/agents/${id}/commissions`, agent.agentId);
  });
});
