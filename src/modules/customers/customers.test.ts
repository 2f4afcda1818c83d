import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createUser, nextPhone, signInAs, type TestContext } from '../../../test/helpers/app.js';
import {
  createActiveAgent, createCustomer, createProvider, createRegion, signInProviderAdmin, signInRegionalManager, type AgentFixture,
} from '../../../test/helpers/factories-directory.js';

let ctx: TestContext;
let providerId: string;
let regionId: string;
let senior: AgentFixture;
let agent: AgentFixture;
let other: AgentFixture;

const customerBody = (overrides: Record<string, unknown> = {}) => ({
  full_name: 'Meera Iyer', date_of_birth: '1988-07-14', gender: 'female', phone_number: nextPhone(), ...overrides,
});
const post = (who: { headers: Record<string, string> }, payload: object, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/customers', headers: { ...who.headers, ...headers }, payload });

beforeAll(async () => {
  ctx = await buildTestApp();
  providerId = (await createProvider(ctx)).id;
  regionId = (await createRegion(ctx)).id;
  senior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [providerId], regionId });
  agent = await createActiveAgent(ctx, { providerIds: [providerId], regionId, managerAgentId: senior.agentId });
  other = await createActiveAgent(ctx, { providerIds: [(await createProvider(ctx, { type: 'health' })).id], regionId: (await createRegion(ctx)).id });
});

afterAll(async () => {
  await ctx.close();
});

describe('creating customers', () => {
  it('an active agent creates a customer it owns; phone, PAN and email are normalised', async () => {
    const res = await post(agent, customerBody({
      phone_number: '+91 98111 22334', pan: 'abcpe1234f', email: 'Meera@Example.IN',
      address: { line1: '14 MG Road', city: 'Pune', state: 'Maharashtra', pincode: '411001' },
    }));
    expect(res.statusCode).toBe(201);
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.json()).toMatchObject({
      agent_id: agent.agentId, user_id: null, phone_number: '+919811122334', pan: 'ABCPE1234F', email: 'meera@example.in',
      address: { line1: '14 MG Road', city: 'Pune', state: 'Maharashtra', pincode: '411001' },
    });
  });

  it('the same Idempotency-Key twice creates one customer', async () => {
    const body = customerBody();
    const first = await post(agent, body, { 'idempotency-key': 'customer-create-0001' });
    const second = await post(agent, body, { 'idempotency-key': 'customer-create-0001' });
    expect(second.json()).toEqual(first.json());
    const rows = await ctx.database.db.selectFrom('customers').select('id').where('phone_number', '=', body.phone_number).execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses a future birth date, an age over 120, an invalid PAN, PIN code or phone, naming the field', async () => {
    const path = async (payload: Record<string, unknown>) => (await post(agent, customerBody(payload))).json().errors?.[0]?.path;
    expect(await path({ date_of_birth: '2999-01-01' })).toBe('/date_of_birth');
    expect(await path({ date_of_birth: '1850-01-01' })).toBe('/date_of_birth');
    expect(await path({ pan: 'ABCPE0000F' })).toBe('/pan');
    expect(await path({ address: { line1: 'x', city: 'Pune', state: 'MH', pincode: '011001' } })).toBe('/address/pincode');
    expect(await path({ phone_number: '12345' })).toBe('/phone_number');
    expect(await path({ gender: 'unknown' })).toBe('/gender');
  });

  it('links the customer to a policyholder login with the same phone', async () => {
    const holder = await createUser(ctx, 'policyholder');
    const res = await post(agent, customerBody({ phone_number: holder.phone }));
    expect(res.json().user_id).toBe(holder.id);
  });

  it('a customer is linked to its policyholder login when that person registers and verifies the phone later', async () => {
    const customer = await createCustomer(ctx, agent.agentId);
    const registered = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { phone_number: customer.phone, full_name: 'Later Holder', password: 'monsoon tea on the ghats' } });
    expect(registered.statusCode).toBe(201);
    const before = await ctx.database.db.selectFrom('customers').select('user_id').where('id', '=', customer.id).executeTakeFirstOrThrow();
    expect(before.user_id).toBeNull();
    const code = ctx.sms.lastCodeFor(customer.phone, 'register')!;
    const verified = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/verify-otp', payload: { phone_number: customer.phone, code, purpose: 'register' } });
    expect(verified.statusCode).toBe(200);
    const row = await ctx.database.db.selectFrom('customers').select(['user_id', 'version']).where('id', '=', customer.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ user_id: verified.json().user.id, version: 2 });
  });

  it('only agents create customers: a super_admin gets 403, and so does a pending or suspended agent', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    expect((await post(admin, customerBody())).statusCode).toBe(403);
    for (const status of ['pending_approval', 'suspended'] as const) {
      const inactive = await createActiveAgent(ctx, { providerIds: [providerId], status });
      expect((await post(inactive, customerBody())).statusCode).toBe(403);
      expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/customers', headers: inactive.headers })).statusCode).toBe(403);
    }
    const policyholder = await signInAs(ctx, 'policyholder');
    expect((await post(policyholder, customerBody())).statusCode).toBe(403);
  });
});

describe('customer scope', () => {
  let customerId: string;

  beforeAll(async () => {
    customerId = (await createCustomer(ctx, agent.agentId, { fullName: 'Kavya Nair' })).id;
  });

  it('another agent\'s customer is a 404, and never listed', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: `/api/v1/customers/${customerId}`, headers: other.headers })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'PUT', url: `/api/v1/customers/${customerId}`, headers: other.headers, payload: { full_name: 'Taken Over' } })).statusCode).toBe(404);
    const list = await ctx.app.inject({ method: 'GET', url: '/api/v1/customers?q=Kavya', headers: other.headers });
    expect(list.json().items).toEqual([]);
  });

  it('the agent\'s senior, its provider\'s admin and its regional manager see the customer; other admins do not', async () => {
    const get = async (who: { headers: Record<string, string> }) => (await ctx.app.inject({ method: 'GET', url: `/api/v1/customers/${customerId}`, headers: who.headers })).statusCode;
    expect(await get(agent)).toBe(200);
    expect(await get(senior)).toBe(200);
    expect(await get(await signInProviderAdmin(ctx, providerId))).toBe(200);
    expect(await get(await signInRegionalManager(ctx, regionId))).toBe(200);
    expect(await get(await signInProviderAdmin(ctx, (await createProvider(ctx)).id))).toBe(404);
    expect(await get(await signInRegionalManager(ctx, (await createRegion(ctx)).id))).toBe(404);
  });

  it('the agent and its senior change the customer with If-Match; an admin with read-only access gets 403', async () => {
    const url = `/api/v1/customers/${customerId}`;
    const read = await ctx.app.inject({ method: 'GET', url, headers: agent.headers });
    const etag = read.headers.etag as string;
    const changed = await ctx.app.inject({ method: 'PUT', url, headers: { ...agent.headers, 'if-match': etag }, payload: { email: 'kavya@example.in', pan: 'abcpn4321k' } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ full_name: 'Kavya Nair', email: 'kavya@example.in', pan: 'ABCPN4321K' });
    expect(changed.headers.etag).not.toBe(etag);
    expect((await ctx.app.inject({ method: 'PUT', url, headers: { ...senior.headers, 'if-match': etag }, payload: { full_name: 'Late' } })).statusCode).toBe(412);
    const bySenior = await ctx.app.inject({ method: 'PUT', url, headers: senior.headers, payload: { email: null } });
    expect(bySenior.json().email).toBeNull();
    const providerAdmin = await signInProviderAdmin(ctx, providerId);
    expect((await ctx.app.inject({ method: 'PUT', url, headers: providerAdmin.headers, payload: { full_name: 'Admin Edit' } })).statusCode).toBe(403);
  });

  it('searches by name or by phone in any common form, page by page', async () => {
    const searcher = await createActiveAgent(ctx, { providerIds: [providerId] });
    const phone = nextPhone();
    await createCustomer(ctx, searcher.agentId, { fullName: 'Arjun Rao', phone });
    await createCustomer(ctx, searcher.agentId, { fullName: 'Arjun Mehta' });
    await createCustomer(ctx, searcher.agentId, { fullName: 'Divya Shah' });
    const byName = await ctx.app.inject({ method: 'GET', url: '/api/v1/customers?q=arjun&sort=full_name', headers: searcher.headers });
    expect(byName.json().items.map((c: { full_name: string }) => c.full_name)).toEqual(['Arjun Mehta', 'Arjun Rao']);
    const local = phone.slice(3);
    const byPhone = await ctx.app.inject({ method: 'GET', url: `/api/v1/customers?q=${encodeURIComponent(`${local.slice(0, 5)} ${local.slice(5)}`)}`, headers: searcher.headers });
    expect(byPhone.json().items.map((c: { full_name: string }) => c.full_name)).toEqual(['Arjun Rao']);
    const page1 = await ctx.app.inject({ method: 'GET', url: '/api/v1/customers?limit=2', headers: searcher.headers });
    const page2 = await ctx.app.inject({ method: 'GET', url: `/api/v1/customers?limit=2&cursor=${page1.json().next_cursor}`, headers: searcher.headers });
    const ids = [...page1.json().items, ...page2.json().items].map((c: { id: string }) => c.id);
    expect(new Set(ids).size).toBe(3);
    expect(page2.json().next_cursor).toBeNull();
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/customers?sort=pan', headers: searcher.headers })).statusCode).toBe(422);
  });
});
