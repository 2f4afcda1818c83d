import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signInAs, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import {
  createActiveAgent, createCustomer, createProduct, createProvider, createRegion, DEFAULT_PRODUCT_RULES, signInProviderAdmin, signInRegionalManager,
  type ProviderFixture,
} from '../../../test/helpers/factories-directory.js';
import { insertPolicy } from '../../../test/helpers/factories-policies.js';

let ctx: TestContext;
let admin: SignedIn;

const productBody = (code: string, overrides: Record<string, unknown> = {}) => {
  const { kind, min_entry_age, max_entry_age, max_maturity_age, min_sum_assured_paise, max_sum_assured_paise, min_term_years, max_term_years, premium_modes, rate_table } = DEFAULT_PRODUCT_RULES;
  return { code, name: 'Term Shield', kind, min_entry_age, max_entry_age, max_maturity_age, min_sum_assured_paise, max_sum_assured_paise, min_term_years, max_term_years, premium_modes, rate_table, ...overrides };
};

beforeAll(async () => {
  ctx = await buildTestApp();
  admin = await signInAs(ctx, 'super_admin');
});

afterAll(async () => {
  await ctx.close();
});

describe('providers', () => {
  it('a super_admin creates a provider; the code is upper-cased and the phone returned in E.164', async () => {
    const res = await ctx.app.inject({
      method: 'POST', url: '/api/v1/providers', headers: admin.headers,
      payload: { code: 'hdfc-life', name: 'HDFC Life', type: 'life', contact_phone: '98765 43210', contact_email: 'Agents@HDFC.example', irdai_registration_number: '101' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.json()).toMatchObject({ code: 'HDFC-LIFE', type: 'life', status: 'active', contact_phone: '+919876543210', contact_email: 'agents@hdfc.example' });
  });

  it('a duplicate code answers 409 CODE_TAKEN, whatever its case', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/providers', headers: admin.headers, payload: { code: 'Hdfc-Life', name: 'Other', type: 'health' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CODE_TAKEN');
  });

  it('a malformed code or an unknown field is a 422 naming the field', async () => {
    const bad = await ctx.app.inject({ method: 'POST', url: '/api/v1/providers', headers: admin.headers, payload: { code: '1ABC', name: 'Bad', type: 'life' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors[0].path).toBe('/code');
    const extra = await ctx.app.inject({ method: 'POST', url: '/api/v1/providers', headers: admin.headers, payload: { code: 'OKAY', name: 'Okay', type: 'life', rating: 5 } });
    expect(extra.statusCode).toBe(422);
  });

  it('the same Idempotency-Key twice creates one provider and answers the same body', async () => {
    const request = { method: 'POST' as const, url: '/api/v1/providers', headers: { ...admin.headers, 'idempotency-key': 'create-star-health-1' }, payload: { code: 'STAR', name: 'Star Health', type: 'health' } };
    const first = await ctx.app.inject(request);
    const second = await ctx.app.inject(request);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    const rows = await ctx.database.db.selectFrom('providers').select('id').where('code', '=', 'STAR').execute();
    expect(rows).toHaveLength(1);
  });

  it('only a super_admin creates providers; a provider_admin gets 403', async () => {
    const provider = await createProvider(ctx);
    const padmin = await signInProviderAdmin(ctx, provider.id);
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/providers', headers: padmin.headers, payload: { code: 'NEWCO', name: 'New Co', type: 'general' } });
    expect(res.statusCode).toBe(403);
  });

  it('any signed-in user lists providers, filtered by q, type and status, page by page', async () => {
    await createProvider(ctx, { code: 'ICICIPRU', name: 'ICICI Prudential Life', type: 'life' });
    await createProvider(ctx, { code: 'ICICILOM', name: 'ICICI Lombard', type: 'general', status: 'suspended' });
    const agent = await createActiveAgent(ctx);
    const byName = await ctx.app.inject({ method: 'GET', url: '/api/v1/providers?q=icici', headers: agent.headers });
    expect(byName.statusCode).toBe(200);
    expect(byName.json().items.map((p: { code: string }) => p.code)).toEqual(['ICICILOM', 'ICICIPRU']);
    const filtered = await ctx.app.inject({ method: 'GET', url: '/api/v1/providers?q=ICICI&type=general&status=suspended', headers: agent.headers });
    expect(filtered.json().items.map((p: { code: string }) => p.code)).toEqual(['ICICILOM']);
    const first = await ctx.app.inject({ method: 'GET', url: '/api/v1/providers?q=icici&limit=1&sort=-code', headers: agent.headers });
    expect(first.json().items[0].code).toBe('ICICIPRU');
    const next = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers?q=icici&limit=1&sort=-code&cursor=${first.json().next_cursor}`, headers: agent.headers });
    expect(next.json()).toMatchObject({ items: [{ code: 'ICICILOM' }], next_cursor: null });
    const unauthenticated = await ctx.app.inject({ method: 'GET', url: '/api/v1/providers' });
    expect(unauthenticated.statusCode).toBe(401);
  });

  it('a provider_admin edits its own provider with If-Match, and not another one', async () => {
    const own = await createProvider(ctx);
    const other = await createProvider(ctx);
    const padmin = await signInProviderAdmin(ctx, own.id);
    const read = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${own.id}`, headers: padmin.headers });
    const etag = read.headers.etag as string;
    const updated = await ctx.app.inject({ method: 'PUT', url: `/api/v1/providers/${own.id}`, headers: { ...padmin.headers, 'if-match': etag }, payload: { name: 'Renamed Life' } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ name: 'Renamed Life', code: own.code });
    expect(updated.headers.etag).toBe('W/"2"');
    const stale = await ctx.app.inject({ method: 'PUT', url: `/api/v1/providers/${own.id}`, headers: { ...padmin.headers, 'if-match': etag }, payload: { name: 'Again' } });
    expect(stale.statusCode).toBe(412);
    const foreign = await ctx.app.inject({ method: 'PUT', url: `/api/v1/providers/${other.id}`, headers: padmin.headers, payload: { name: 'Hijack' } });
    expect(foreign.statusCode).toBe(403);
  });

  it('a super_admin suspends a provider with a reason; a provider_admin may not change status', async () => {
    const provider = await createProvider(ctx);
    const padmin = await signInProviderAdmin(ctx, provider.id);
    const denied = await ctx.app.inject({ method: 'PUT', url: `/api/v1/providers/${provider.id}/status`, headers: padmin.headers, payload: { status: 'inactive', reason: 'Closing' } });
    expect(denied.statusCode).toBe(403);
    const res = await ctx.app.inject({ method: 'PUT', url: `/api/v1/providers/${provider.id}/status`, headers: admin.headers, payload: { status: 'suspended', reason: 'IRDAI direction' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'suspended', status_reason: 'IRDAI direction' });
    const audit = await ctx.database.db.selectFrom('audit_events').select('action').where('entity_id', '=', provider.id).execute();
    expect(audit.map((a) => a.action)).toContain('provider.status_changed');
  });

  it('an unknown provider is a 404', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/v1/providers/01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12', headers: admin.headers });
    expect(res.statusCode).toBe(404);
  });
});

describe('products', () => {
  let provider: ProviderFixture;
  let padmin: SignedIn;

  beforeAll(async () => {
    provider = await createProvider(ctx, { type: 'life' });
    padmin = await signInProviderAdmin(ctx, provider.id);
  });

  it('the provider\'s admin adds a product with its rating rules, idempotently', async () => {
    const request = {
      method: 'POST' as const, url: `/api/v1/providers/${provider.id}/products`, headers: { ...padmin.headers, 'idempotency-key': 'product-term-1' },
      payload: productBody('term20', { tax_rate_bp: null, modal_factors: { monthly: '0.09' } }),
    };
    const first = await ctx.app.inject(request);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ code: 'TERM20', provider_id: provider.id, kind: 'term', modal_factors: { monthly: '0.09' }, rate_table: DEFAULT_PRODUCT_RULES.rate_table });
    const replay = await ctx.app.inject(request);
    expect(replay.json()).toEqual(first.json());
    const list = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${provider.id}/products`, headers: padmin.headers });
    expect(list.json().items).toHaveLength(1);
  });

  it('contradictory rules are refused with 422, each violation named', async () => {
    const res = await ctx.app.inject({
      method: 'POST', url: `/api/v1/providers/${provider.id}/products`, headers: padmin.headers,
      payload: productBody('BROKEN', {
        min_entry_age: 65, max_entry_age: 60, max_maturity_age: 50,
        rate_table: [{ min_age: 18, max_age: 40, rate_per_thousand_paise: 100 }, { min_age: 35, max_age: 60, rate_per_thousand_paise: 200 }],
        premium_modes: ['annual', 'annual'],
      }),
    });
    expect(res.statusCode).toBe(422);
    const messages = res.json().errors.map((e: { path: string; message: string }) => `${e.path} ${e.message}`).join('\n');
    for (const rule of ['ENTRY_AGE_RANGE_INVERTED', 'MATURITY_AGE_TOO_LOW', 'RATE_BANDS_OVERLAP', 'PREMIUM_MODE_DUPLICATE']) expect(messages).toContain(rule);
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain('/min_entry_age');
  });

  it('a product code is unique within its provider (409 CODE_TAKEN)', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: `/api/v1/providers/${provider.id}/products`, headers: padmin.headers, payload: productBody('TERM20') });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CODE_TAKEN');
  });

  it('a product update is checked against the merged rules and honours If-Match', async () => {
    const product = await createProduct(ctx, provider.id);
    const url = `/api/v1/providers/${provider.id}/products/${product.id}`;
    const read = await ctx.app.inject({ method: 'GET', url, headers: padmin.headers });
    expect(read.statusCode).toBe(200);
    const contradictory = await ctx.app.inject({ method: 'PUT', url, headers: padmin.headers, payload: { max_entry_age: 70 } });
    expect(contradictory.statusCode).toBe(422);
    expect(JSON.stringify(contradictory.json().errors)).toContain('RATE_TABLE_NOT_COVERING_ENTRY_AGES');
    const ok = await ctx.app.inject({ method: 'PUT', url, headers: { ...padmin.headers, 'if-match': read.headers.etag as string }, payload: { max_sum_assured_paise: 9_000_000_000, status: 'inactive' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ max_sum_assured_paise: 9_000_000_000, status: 'inactive', min_entry_age: 18 });
    const stale = await ctx.app.inject({ method: 'PUT', url, headers: { ...padmin.headers, 'if-match': read.headers.etag as string }, payload: { name: 'Late' } });
    expect(stale.statusCode).toBe(412);
  });

  it('another provider\'s admin cannot add products (403); an agent reads them', async () => {
    const otherAdmin = await signInProviderAdmin(ctx, (await createProvider(ctx)).id);
    const denied = await ctx.app.inject({ method: 'POST', url: `/api/v1/providers/${provider.id}/products`, headers: otherAdmin.headers, payload: productBody('SNEAKY') });
    expect(denied.statusCode).toBe(403);
    const agent = await createActiveAgent(ctx, { providerIds: [provider.id] });
    const list = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${provider.id}/products?kind=term`, headers: agent.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.length).toBeGreaterThan(0);
    const agentWrite = await ctx.app.inject({ method: 'POST', url: `/api/v1/providers/${provider.id}/products`, headers: agent.headers, payload: productBody('AGENTS') });
    expect(agentWrite.statusCode).toBe(403);
  });

  it('a product asked for under another provider is a 404', async () => {
    const product = await createProduct(ctx, provider.id);
    const other = await createProvider(ctx);
    const res = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${other.id}/products/${product.id}`, headers: admin.headers });
    expect(res.statusCode).toBe(404);
  });
});

describe('commission rules', () => {
  it('the provider\'s admin sets a default and a per-kind schedule; the kind falls back to the default', async () => {
    const provider = await createProvider(ctx);
    const padmin = await signInProviderAdmin(ctx, provider.id);
    const url = `/api/v1/providers/${provider.id}/commission-rules`;
    expect((await ctx.app.inject({ method: 'GET', url, headers: padmin.headers })).statusCode).toBe(404);
    const incomplete = await ctx.app.inject({ method: 'PUT', url, headers: padmin.headers, payload: { first_year_bp: 2500 } });
    expect(incomplete.statusCode).toBe(422);
    const set = await ctx.app.inject({ method: 'PUT', url, headers: padmin.headers, payload: { first_year_bp: 2500, renewal_bp: 500 } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ product_kind: null, first_year_bp: 2500, renewal_bp: 500, override_bp: null });
    const health = await ctx.app.inject({ method: 'PUT', url: `${url}?product_kind=health`, headers: padmin.headers, payload: { first_year_bp: 1500, renewal_bp: 750, override_bp: 100 } });
    expect(health.json()).toMatchObject({ product_kind: 'health', override_bp: 100 });
    const term = await ctx.app.inject({ method: 'GET', url: `${url}?product_kind=term`, headers: padmin.headers });
    expect(term.json()).toMatchObject({ product_kind: null, first_year_bp: 2500 });
    const partial = await ctx.app.inject({ method: 'PUT', url, headers: { ...padmin.headers, 'if-match': set.headers.etag as string }, payload: { renewal_bp: 600 } });
    expect(partial.json()).toMatchObject({ first_year_bp: 2500, renewal_bp: 600 });
    const outOfRange = await ctx.app.inject({ method: 'PUT', url, headers: padmin.headers, payload: { first_year_bp: 10_001 } });
    expect(outOfRange.statusCode).toBe(422);
    const audit = await ctx.database.db.selectFrom('audit_events').select('action').where('entity_id', '=', provider.id).execute();
    expect(audit.filter((a) => a.action === 'provider.commission_rules_set')).toHaveLength(3);
  });

  it('another provider\'s admin sees neither the schedule (404) nor may set it (403)', async () => {
    const provider = await createProvider(ctx);
    const otherAdmin = await signInProviderAdmin(ctx, (await createProvider(ctx)).id);
    const url = `/api/v1/providers/${provider.id}/commission-rules`;
    expect((await ctx.app.inject({ method: 'PUT', url, headers: admin.headers, payload: { first_year_bp: 100, renewal_bp: 50 } })).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'GET', url, headers: otherAdmin.headers })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'PUT', url, headers: otherAdmin.headers, payload: { renewal_bp: 1 } })).statusCode).toBe(403);
  });
});

describe('agent links', () => {
  it('a super_admin links an agent; a second insurer of the same type is a 409 naming the IRDAI rule', async () => {
    const lifeA = await createProvider(ctx, { type: 'life' });
    const lifeB = await createProvider(ctx, { type: 'life' });
    const health = await createProvider(ctx, { type: 'health' });
    const agent = await createActiveAgent(ctx, { providerIds: [lifeA.id] });
    const linked = await ctx.app.inject({ method: 'POST', url: `/api/v1/providers/${health.id}/agents`, headers: admin.headers, payload: { agent_id: agent.agentId } });
    expect(linked.statusCode).toBe(201);
    expect(linked.json()).toMatchObject({ agent_id: agent.agentId, provider_id: health.id, provider_type: 'health' });
    const again = await ctx.app.inject({ method: 'POST', url: `/api/v1/providers/${health.id}/agents`, headers: admin.headers, payload: { agent_id: agent.agentId } });
    expect(again.statusCode).toBe(409);
    const secondLife = await ctx.app.inject({ method: 'POST', url: `/api/v1/providers/${lifeB.id}/agents`, headers: admin.headers, payload: { agent_id: agent.agentId } });
    expect(secondLife.statusCode).toBe(409);
    expect(secondLife.json().code).toBe('CONFLICT');
    expect(secondLife.json().detail).toMatch(/at most one provider of each type.*IRDAI/);
  });

  it('the unique index has the last word on the IRDAI rule', async () => {
    const lifeA = await createProvider(ctx, { type: 'life' });
    const lifeB = await createProvider(ctx, { type: 'life' });
    const agent = await createActiveAgent(ctx, { providerIds: [lifeA.id] });
    const error = await ctx.database.db.transaction().execute((trx) => ctx.app.services.providers.insertLinks(trx, agent.agentId, [lifeB], ctx.clock.now())).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 409, code: 'CONFLICT' });
  });

  it('linking an unknown agent is a 404; no provider admin may link, its own provider\'s or another\'s (403), so none can open an agent\'s records to itself', async () => {
    const provider = await createProvider(ctx, { type: 'health' });
    const ownAdmin = await signInProviderAdmin(ctx, provider.id);
    const otherAdmin = await signInProviderAdmin(ctx, (await createProvider(ctx)).id);
    const unknown = await ctx.app.inject({ method: 'POST', url: `/api/v1/providers/${provider.id}/agents`, headers: admin.headers, payload: { agent_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12' } });
    expect(unknown.statusCode).toBe(404);
    const agent = await createActiveAgent(ctx, { providerIds: [(await createProvider(ctx, { type: 'life' })).id] });
    for (const who of [ownAdmin, otherAdmin]) {
      const refused = await ctx.app.inject({ method: 'POST', url: `/api/v1/providers/${provider.id}/agents`, headers: who.headers, payload: { agent_id: agent.agentId } });
      expect(refused.statusCode).toBe(403);
    }
    expect(await ctx.database.db.selectFrom('agent_providers').select('provider_id').where('agent_id', '=', agent.agentId).execute()).toHaveLength(1);
    // Still out of the admin's sight: the agent and its documents.
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}`, headers: ownAdmin.headers })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/documents`, headers: ownAdmin.headers })).statusCode).toBe(404);
  });

  it('a provider\'s agent list shows each caller only the agents in its scope', async () => {
    const provider = await createProvider(ctx);
    const north = await createRegion(ctx);
    const south = await createRegion(ctx);
    const inNorth = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: north.id });
    const inSouth = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: south.id, status: 'pending_approval' });
    const padmin = await signInProviderAdmin(ctx, provider.id);
    const all = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${provider.id}/agents`, headers: padmin.headers });
    expect(all.json().items.map((a: { agent_id: string }) => a.agent_id).sort()).toEqual([inNorth.agentId, inSouth.agentId].sort());
    const pending = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${provider.id}/agents?status=pending_approval`, headers: padmin.headers });
    expect(pending.json().items.map((a: { agent_id: string }) => a.agent_id)).toEqual([inSouth.agentId]);
    const manager = await signInRegionalManager(ctx, north.id);
    const scoped = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${provider.id}/agents`, headers: manager.headers });
    expect(scoped.json().items.map((a: { agent_id: string }) => a.agent_id)).toEqual([inNorth.agentId]);
    const otherAdmin = await signInProviderAdmin(ctx, (await createProvider(ctx)).id);
    const none = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${provider.id}/agents`, headers: otherAdmin.headers });
    expect(none.json().items).toEqual([]);
    const junior = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${provider.id}/agents`, headers: inNorth.headers });
    expect(junior.statusCode).toBe(403);
  });
});

describe('provider metrics', () => {
  it('counts agents and policies by status, premium in force and the lapse ratio, from SQL aggregates', async () => {
    const provider = await createProvider(ctx);
    const product = await createProduct(ctx, provider.id);
    const agent = await createActiveAgent(ctx, { providerIds: [provider.id] });
    await createActiveAgent(ctx, { providerIds: [provider.id], status: 'pending_approval' });
    await createActiveAgent(ctx, { providerIds: [provider.id], status: 'suspended' });
    const customer = await createCustomer(ctx, agent.agentId);
    const base = { productId: product.id, providerId: provider.id, customerId: customer.id, agentId: agent.agentId, createdBy: agent.userId };
    for (const status of ['active', 'active', 'active', 'lapsed', 'draft'] as const) await insertPolicy(ctx, { ...base, status });
    const padmin = await signInProviderAdmin(ctx, provider.id);
    const url = `/api/v1/providers/${provider.id}/metrics`;
    const empty = await ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${(await createProvider(ctx)).id}/metrics`, headers: admin.headers });
    expect(empty.json()).toMatchObject({ premium_in_force_paise: 0, lapse_ratio: null });
    const res = await ctx.app.inject({ method: 'GET', url, headers: padmin.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      provider_id: provider.id,
      agents_by_status: { active: 1, pending_approval: 1, suspended: 1, rejected: 0, inactive: 0 },
      policies_by_status: { active: 3, lapsed: 1, draft: 1, submitted: 0 },
      premium_in_force_paise: 3 * 625_000,
      lapse_ratio: 0.25,
    });
    const otherAdmin = await signInProviderAdmin(ctx, (await createProvider(ctx)).id);
    expect((await ctx.app.inject({ method: 'GET', url, headers: otherAdmin.headers })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url, headers: agent.headers })).statusCode).toBe(403);
  });
});
