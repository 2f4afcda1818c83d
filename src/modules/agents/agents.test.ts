import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, nextPhone, signInAs, TEST_PASSWORD, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import {
  createActiveAgent, createCustomer, createProduct, createProvider, createRegion, multipart, PDF, PNG, signInProviderAdmin, signInRegionalManager,
  type ProviderFixture, type RegionFixture,
} from '../../../test/helpers/factories-directory.js';
import { insertPolicy } from '../../../test/helpers/factories-policies.js';
import { newId } from '../../shared/ids.js';
import { assertCanSell } from './agents.selling.js';

let ctx: TestContext;
let admin: SignedIn;
let life: ProviderFixture;
let health: ProviderFixture;
let maharashtra: RegionFixture;
let pune: RegionFixture;

const registration = (overrides: Record<string, unknown> = {}) => ({
  phone_number: nextPhone(), full_name: 'Ravi Kumar', password: TEST_PASSWORD, license_number: 'IRDA/AG/2024-1187',
  license_expiry: '2099-03-31', pan: 'abcpe1234f', provider_ids: [life.id, health.id], region_id: pune.id, ...overrides,
});

async function upload(headers: Record<string, string>, agentId: string, type: string, bytes: Buffer, filename = 'scan.pdf') {
  const body = multipart({ type }, { bytes, filename });
  return ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agentId}/documents`, headers: { ...headers, ...body.headers }, payload: body.payload });
}

beforeAll(async () => {
  ctx = await buildTestApp();
  admin = await signInAs(ctx, 'super_admin');
  life = await createProvider(ctx, { type: 'life' });
  health = await createProvider(ctx, { type: 'health' });
  maharashtra = await createRegion(ctx, { code: 'MH' });
  pune = await createRegion(ctx, { code: 'PUNE', parent: maharashtra });
});

afterAll(async () => {
  await ctx.close();
});

describe('the agent journey', () => {
  it('registers, verifies its phone, uploads documents, is reviewed and approved, signs in by agent code and sells', async () => {
    const body = registration();
    const registered = await ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: body });
    expect(registered.statusCode).toBe(201);
    const { agent_id: agentId, user_id: userId } = registered.json();
    expect(registered.json()).toMatchObject({ status: 'pending_approval', otp: { expires_in: ctx.config.OTP_TTL_S } });
    const phone = `+91${body.phone_number.slice(-10)}`;

    const early = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: phone, password: TEST_PASSWORD } });
    expect(early.json().code).toBe('PHONE_NOT_VERIFIED');
    const code = ctx.sms.lastCodeFor(phone, 'register');
    const verified = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/verify-otp', payload: { phone_number: phone, code, purpose: 'register' } });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().user).toMatchObject({ id: userId, role: 'junior_agent', status: 'active' });
    const pending = { authorization: `Bearer ${verified.json().access_token}` };

    const profile = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agentId}`, headers: pending });
    expect(profile.json()).toMatchObject({ status: 'pending_approval', agent_code: null, pan: 'ABCPE1234F', region_id: pune.id });
    expect(profile.json().providers.map((p: { provider_id: string }) => p.provider_id).sort()).toEqual([life.id, health.id].sort());
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/customers', headers: pending })).statusCode).toBe(403);

    const licence = await upload(pending, agentId, 'license', PDF, 'licence.pdf');
    expect(licence.statusCode).toBe(201);
    expect(licence.json()).toMatchObject({ type: 'license', content_type: 'application/pdf', status: 'pending', size_bytes: PDF.length, original_name: 'licence.pdf' });
    const pan = await upload(pending, agentId, 'pan', PNG, 'pan.png');
    expect(pan.json()).toMatchObject({ type: 'pan', content_type: 'image/png' });

    const manager = await signInRegionalManager(ctx, maharashtra.id);
    const tooEarly = await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agentId}/approve`, headers: manager.headers });
    expect(tooEarly.statusCode).toBe(422);
    expect(tooEarly.json().errors.map((e: { path: string }) => e.path)).toEqual(['/documents/license', '/documents/pan']);

    for (const document of [licence.json(), pan.json()]) {
      const reviewed = await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agentId}/documents/${document.id}/review`, headers: manager.headers, payload: { decision: 'verified', notes: 'Checked' } });
      expect(reviewed.json()).toMatchObject({ status: 'verified', reviewed_by: manager.userId });
    }
    const approved = await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agentId}/approve`, headers: manager.headers });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'active', role: 'junior_agent', approved_by: manager.userId });
    const agentCode: string = approved.json().agent_code;
    expect(agentCode).toMatch(/^AG-PUNE-\d{6}$/);
    expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agentId}/approve`, headers: manager.headers })).json().code).toBe('INVALID_TRANSITION');

    // Approval ended the pending sessions: the next sign-in carries the new standing.
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agentId}`, headers: pending })).statusCode).toBe(401);
    const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'agent_code', agent_code: agentCode.toLowerCase(), password: TEST_PASSWORD } });
    expect(login.statusCode).toBe(200);
    const active = { authorization: `Bearer ${login.json().access_token}` };
    const customer = await ctx.app.inject({
      method: 'POST', url: '/api/v1/customers', headers: active,
      payload: { full_name: 'Meera Iyer', date_of_birth: '1988-07-14', gender: 'female', phone_number: nextPhone() },
    });
    expect(customer.statusCode).toBe(201);
    expect(customer.json().agent_id).toBe(agentId);
    await expect(assertCanSell(ctx.database.db, agentId, '2026-01-01')).resolves.toBeUndefined();

    const actions = await ctx.database.db.selectFrom('audit_events').select('action').where('entity_id', '=', agentId).execute();
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['agent.registered', 'agent.approved']));
  });
});

describe('registration', () => {
  it('refuses a company PAN and a past licence expiry, naming each field, and a malformed licence number', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: registration({ pan: 'ABCCE1234F', license_expiry: '2020-01-01' }) });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual([
      { path: '/license_expiry', message: 'must be in the future' },
      { path: '/pan', message: 'must be an individual\'s PAN (4th letter P)' },
    ]);
    const licence = await ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: registration({ license_number: 'AB CD' }) });
    expect(licence.json().errors[0].path).toBe('/license_number');
  });

  it('refuses two providers of one type, naming the IRDAI rule, and inactive or unknown providers', async () => {
    const secondLife = await createProvider(ctx, { type: 'life' });
    const suspended = await createProvider(ctx, { type: 'general', status: 'suspended' });
    const twoLife = await ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: registration({ provider_ids: [life.id, secondLife.id] }) });
    expect(twoLife.statusCode).toBe(422);
    expect(twoLife.json().errors[0]).toMatchObject({ path: '/provider_ids/1' });
    expect(twoLife.json().errors[0].message).toMatch(/IRDAI/);
    const inactive = await ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: registration({ provider_ids: [suspended.id, newId()] }) });
    expect(inactive.json().errors.map((e: { path: string }) => e.path)).toEqual(['/provider_ids/0', '/provider_ids/1']);
  });

  it('refuses an unknown region, a weak password and a taken phone; nothing is half-created', async () => {
    const unknownRegion = registration({ region_id: newId() });
    expect((await ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: unknownRegion })).statusCode).toBe(422);
    const stored = await ctx.database.db.selectFrom('users').select('id').where('phone_number', '=', `+91${unknownRegion.phone_number.slice(-10)}`).execute();
    expect(stored).toEqual([]);
    const weak = await ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: registration({ password: 'password' }) });
    expect(weak.json().code).toBe('WEAK_PASSWORD');
    const existing = await createActiveAgent(ctx);
    const taken = await ctx.app.inject({ method: 'POST', url: '/api/v1/agents/register', payload: registration({ phone_number: existing.phone }) });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('PHONE_TAKEN');
  });
});

describe('scope', () => {
  it('provider admins see their provider\'s agents only; regional managers their region\'s; agents themselves and their team', async () => {
    const other = await createProvider(ctx, { type: 'general' });
    const nagpur = await createRegion(ctx, { parent: maharashtra });
    const gujarat = await createRegion(ctx);
    const senior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [life.id], regionId: pune.id });
    const middle = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [life.id], regionId: pune.id, managerAgentId: senior.agentId });
    const junior = await createActiveAgent(ctx, { providerIds: [life.id], regionId: nagpur.id, managerAgentId: middle.agentId });
    const outsider = await createActiveAgent(ctx, { providerIds: [other.id], regionId: gujarat.id });
    const get = (who: SignedIn, agentId: string) => ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agentId}`, headers: who.headers }).then((r) => r.statusCode);

    const lifeAdmin = await signInProviderAdmin(ctx, life.id);
    expect(await get(lifeAdmin, junior.agentId)).toBe(200);
    expect(await get(lifeAdmin, outsider.agentId)).toBe(404);
    const mhManager = await signInRegionalManager(ctx, maharashtra.id);
    expect(await get(mhManager, junior.agentId)).toBe(200);
    expect(await get(mhManager, outsider.agentId)).toBe(404);
    const puneManager = await signInRegionalManager(ctx, pune.id);
    expect(await get(puneManager, junior.agentId)).toBe(404);
    expect(await get(senior, junior.agentId)).toBe(200);
    expect(await get(junior, senior.agentId)).toBe(404);
    expect(await get(junior, outsider.agentId)).toBe(404);

    const team = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${senior.agentId}/team`, headers: senior.headers });
    expect(team.json().items.map((a: { id: string }) => a.id).sort()).toEqual([middle.agentId, junior.agentId].sort());
    const list = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents?provider_id=${other.id}`, headers: lifeAdmin.headers });
    expect(list.json().items).toEqual([]);
    const regionList = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents?region_id=${nagpur.id}`, headers: mhManager.headers });
    expect(regionList.json().items.map((a: { id: string }) => a.id)).toEqual([junior.agentId]);
  });

  it('a provider admin reads agents but cannot approve, suspend or edit them (403)', async () => {
    const agent = await createActiveAgent(ctx, { providerIds: [life.id], status: 'pending_approval' });
    const lifeAdmin = await signInProviderAdmin(ctx, life.id);
    expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/approve`, headers: lifeAdmin.headers })).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/reject`, headers: lifeAdmin.headers, payload: { reason: 'No' } })).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'PUT', url: `/api/v1/agents/${agent.agentId}`, headers: lifeAdmin.headers, payload: { region_id: pune.id } })).statusCode).toBe(403);
  });
});

describe('lifecycle', () => {
  it('an active agent is suspended (and can no longer sell), reinstated, then deactivated; other moves are 409', async () => {
    const agent = await createActiveAgent(ctx, { providerIds: [life.id], regionId: pune.id });
    const manager = await signInRegionalManager(ctx, pune.id);
    const move = (action: string, payload?: object) => ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/${action}`, headers: manager.headers, ...(payload ? { payload } : {}) });
    const suspended = await move('suspend', { reason: 'Complaint under review' });
    expect(suspended.json()).toMatchObject({ status: 'suspended', status_reason: 'Complaint under review' });
    const again = await signInAgent(agent.phone);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/customers', headers: again })).statusCode).toBe(403);
    await expect(assertCanSell(ctx.database.db, agent.agentId, '2026-01-01')).rejects.toMatchObject({ status: 422, code: 'BUSINESS_RULE_VIOLATED' });
    expect((await move('approve')).statusCode).toBe(409);
    expect((await move('reinstate')).json().status).toBe('active');
    expect((await move('deactivate', { reason: 'Left the agency' })).json().status).toBe('inactive');
    expect((await move('reinstate')).json().code).toBe('INVALID_TRANSITION');
    expect((await move('suspend', { reason: 'Again' })).statusCode).toBe(409);
  });

  it('a pending agent is rejected with a reason; an agent outside the manager\'s region is a 404', async () => {
    const agent = await createActiveAgent(ctx, { providerIds: [life.id], regionId: pune.id, status: 'pending_approval' });
    const elsewhere = await signInRegionalManager(ctx, (await createRegion(ctx)).id);
    expect((await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/reject`, headers: elsewhere.headers, payload: { reason: 'x' } })).statusCode).toBe(404);
    const rejected = await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/reject`, headers: admin.headers, payload: { reason: 'Licence not on the IRDAI register' } });
    expect(rejected.json()).toMatchObject({ status: 'rejected', agent_code: null });
  });

  it('an expired licence blocks selling until renewed by the agent', async () => {
    const agent = await createActiveAgent(ctx, { providerIds: [life.id], licenseExpiry: '2024-03-31' });
    await expect(assertCanSell(ctx.database.db, agent.agentId, '2026-01-01')).rejects.toMatchObject({ status: 422, detail: expect.stringMatching(/licence expired/) });
    const read = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}`, headers: agent.headers });
    const past = await ctx.app.inject({ method: 'PUT', url: `/api/v1/agents/${agent.agentId}`, headers: agent.headers, payload: { license_expiry: '2025-01-01' } });
    expect(past.statusCode).toBe(422);
    const renewed = await ctx.app.inject({
      method: 'PUT', url: `/api/v1/agents/${agent.agentId}`, headers: { ...agent.headers, 'if-match': read.headers.etag as string },
      payload: { license_number: 'IRDA/AG/2031-9', license_expiry: '2099-03-31' },
    });
    expect(renewed.statusCode).toBe(200);
    expect(renewed.json()).toMatchObject({ license_number: 'IRDA/AG/2031-9', license_expiry: '2099-03-31' });
    expect(renewed.headers.etag).not.toBe(read.headers.etag);
    await expect(assertCanSell(ctx.database.db, agent.agentId, '2026-01-01')).resolves.toBeUndefined();
    const stale = await ctx.app.inject({ method: 'PUT', url: `/api/v1/agents/${agent.agentId}`, headers: { ...agent.headers, 'if-match': read.headers.etag as string }, payload: { license_number: 'IRDA/AG/2031-10' } });
    expect(stale.statusCode).toBe(412);
  });
});

async function signInAgent(phone: string) {
  const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: phone, password: TEST_PASSWORD } });
  return { authorization: `Bearer ${res.json().access_token}` };
}

describe('hierarchy', () => {
  it('an administrator sets an active senior agent of a common provider as manager; anything else is a 422 naming why', async () => {
    const senior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [life.id], regionId: pune.id });
    const agent = await createActiveAgent(ctx, { providerIds: [life.id], regionId: pune.id });
    const peer = await createActiveAgent(ctx, { providerIds: [life.id], regionId: pune.id });
    const foreignSenior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [health.id], regionId: pune.id });
    const manager = await signInRegionalManager(ctx, maharashtra.id);
    const put = (id: string, payload: object, who = manager) => ctx.app.inject({ method: 'PUT', url: `/api/v1/agents/${id}`, headers: who.headers, payload });
    const reason = async (id: string, payload: object) => (await put(id, payload)).json().errors?.[0]?.message;

    expect((await put(agent.agentId, { manager_agent_id: senior.agentId }, agent)).statusCode).toBe(403);
    expect(await reason(agent.agentId, { manager_agent_id: peer.agentId })).toBe('must be an active senior agent');
    expect(await reason(agent.agentId, { manager_agent_id: foreignSenior.agentId })).toMatch(/at least one of the agent's providers/);
    expect(await reason(agent.agentId, { manager_agent_id: agent.agentId })).toBe('cannot be the agent itself');
    const ok = await put(agent.agentId, { manager_agent_id: senior.agentId });
    expect(ok.json().manager_agent_id).toBe(senior.agentId);
    const juniorSenior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [life.id], regionId: pune.id, managerAgentId: agent.agentId });
    expect(await reason(senior.agentId, { manager_agent_id: juniorSenior.agentId })).toMatch(/cycle/);
    expect(await reason(agent.agentId, { region_id: (await createRegion(ctx)).id })).toBe('is outside your region');
    expect((await put(agent.agentId, { region_id: maharashtra.id })).json().region_id).toBe(maharashtra.id);
  });
});

describe('numbers', () => {
  it('metrics and commissions come from the agent\'s policies; a provider admin sees only its own provider\'s share', async () => {
    const agent = await createActiveAgent(ctx, { providerIds: [life.id, health.id] });
    const lifeProduct = await createProduct(ctx, life.id);
    const healthProduct = await createProduct(ctx, health.id, { kind: 'health' });
    const customer = await createCustomer(ctx, agent.agentId);
    await createCustomer(ctx, agent.agentId);
    const base = { customerId: customer.id, agentId: agent.agentId, createdBy: agent.userId };
    const issued = await insertPolicy(ctx, { ...base, productId: lifeProduct.id, providerId: life.id, status: 'active' });
    await insertPolicy(ctx, { ...base, productId: lifeProduct.id, providerId: life.id, status: 'draft' });
    const healthPolicy = await insertPolicy(ctx, { ...base, productId: healthProduct.id, providerId: health.id, status: 'active' });
    const db = ctx.database.db;
    for (const [policyId, amount, status] of [[issued, 156_250, 'earned'], [healthPolicy, 50_000, 'paid']] as const) {
      await db.insertInto('commissions').values({ id: newId(), policy_id: policyId, agent_id: agent.agentId, kind: 'first_year', basis_paise: 625_000, rate_bp: 2500, amount_paise: amount, status }).execute();
    }
    await db.insertInto('commissions').values({ id: newId(), policy_id: issued, agent_id: agent.agentId, kind: 'renewal', basis_paise: 625_000, rate_bp: 500, amount_paise: 31_250, status: 'clawed_back' }).execute();

    const metrics = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/metrics`, headers: agent.headers });
    expect(metrics.json()).toMatchObject({
      customers: 2, policies_by_status: { active: 2, draft: 1, lapsed: 0 }, premium_paise: 1_250_000, commissions_earned_paise: 206_250, conversion: 2 / 3,
    });
    const lifeAdmin = await signInProviderAdmin(ctx, life.id);
    const scoped = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/metrics`, headers: lifeAdmin.headers });
    expect(scoped.json()).toMatchObject({ policies_by_status: { active: 1, draft: 1 }, premium_paise: 625_000, commissions_earned_paise: 156_250, conversion: 0.5 });

    const page1 = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/commissions?limit=2`, headers: agent.headers });
    expect(page1.json().items).toHaveLength(2);
    expect(Object.keys(page1.json().items[0]).sort()).toEqual(['amount_paise', 'commission_id', 'earned_at', 'kind', 'policy_id', 'status']);
    const page2 = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/commissions?limit=2&cursor=${page1.json().next_cursor}`, headers: agent.headers });
    expect(page2.json().items).toHaveLength(1);
    expect(page2.json().next_cursor).toBeNull();
    const stranger = await createActiveAgent(ctx);
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/commissions`, headers: stranger.headers })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${agent.agentId}/metrics`, headers: stranger.headers })).statusCode).toBe(404);
  });
});
