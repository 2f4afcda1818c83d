import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, nextPhone, signIn, TEST_PASSWORD, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import { insertAgent, insertProvider, insertRegion, signInWith, userWith, type TestRegion } from '../../../test/helpers/factories-users.js';

let ctx: TestContext;
let providerA: string;
let providerB: string;
let india: TestRegion;
let regionX: TestRegion;
let regionX1: TestRegion;
let regionY: TestRegion;
let superAdmin: SignedIn;
let adminA: SignedIn;
let adminB: SignedIn;
let managerX: SignedIn;

beforeAll(async () => {
  ctx = await buildTestApp();
  providerA = await insertProvider(ctx, 'life', 'Alpha Life');
  providerB = await insertProvider(ctx, 'life', 'Beta Life');
  india = await insertRegion(ctx);
  regionX = await insertRegion(ctx, india);
  regionX1 = await insertRegion(ctx, regionX);
  regionY = await insertRegion(ctx, india);
  superAdmin = await signInWith(ctx, 'super_admin');
  adminA = await signInWith(ctx, 'provider_admin', { providerId: providerA });
  adminB = await signInWith(ctx, 'provider_admin', { providerId: providerB });
  managerX = await signInWith(ctx, 'regional_manager', { regionId: regionX.id });
});
afterAll(() => ctx.close());

type Headers = Record<string, string>;
const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, who: SignedIn, payload?: unknown, headers: Headers = {}) =>
  ctx.app.inject({ method, url: `/api/v1${url}`, headers: { ...who.headers, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

const newUserBody = (extra: Record<string, unknown> = {}) => ({ phone_number: nextPhone(), full_name: 'Nisha Kapoor', role: 'junior_agent', ...extra });

async function auditActions(entityId: string): Promise<Array<{ action: string; changes: Record<string, unknown> | null }>> {
  const response = await api('GET', `/audit-events?entity_type=user&entity_id=${entityId}&limit=100`, superAdmin);
  return response.json().items;
}

describe('creating users', () => {
  it('a super_admin creates a user with a password, who can then sign in with it', async () => {
    const body = newUserBody({ password: TEST_PASSWORD, email: 'Nisha.K@Example.in' });
    const response = await api('POST', '/users', superAdmin, body);
    expect(response.statusCode).toBe(201);
    expect(response.headers.etag).toBe('W/"1"');
    const user = response.json();
    expect(user).toMatchObject({ full_name: 'Nisha Kapoor', role: 'junior_agent', status: 'active', email: 'nisha.k@example.in' });
    expect(response.headers.location).toBe(`/api/v1/users/${user.id}`);
    expect(user).not.toHaveProperty('password_hash');
    const session = await signIn(ctx, body.phone_number);
    expect(session.userId).toBe(user.id);
    const audit = await auditActions(user.id);
    expect(audit.map((e) => e.action)).toContain('user.created');
    expect(JSON.stringify(audit)).not.toContain(TEST_PASSWORD);
  });

  it('a user created without a password signs in by OTP', async () => {
    const body = newUserBody({ role: 'policyholder' });
    expect((await api('POST', '/users', superAdmin, body)).statusCode).toBe(201);
    const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: body.phone_number, password: TEST_PASSWORD } });
    expect(login.statusCode).toBe(401);
    const otp = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'otp', phone_number: body.phone_number } });
    expect(otp.statusCode).toBe(202);
    const code = ctx.sms.lastCodeFor(body.phone_number, 'login');
    const verified = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/verify-otp', payload: { phone_number: body.phone_number, code, purpose: 'login' } });
    expect(verified.statusCode).toBe(200);
  });

  it('refuses a weak password with 422 WEAK_PASSWORD', async () => {
    const response = await api('POST', '/users', superAdmin, newUserBody({ password: 'password123' }));
    expect(response.statusCode).toBe(422);
    expect(response.json().code).toBe('WEAK_PASSWORD');
  });

  it('refuses a taken phone with 409 PHONE_TAKEN and a taken email (any case) with 409 EMAIL_TAKEN', async () => {
    const first = newUserBody({ email: 'taken@example.in' });
    expect((await api('POST', '/users', superAdmin, first)).statusCode).toBe(201);
    const samePhone = await api('POST', '/users', superAdmin, newUserBody({ phone_number: first.phone_number }));
    expect([samePhone.statusCode, samePhone.json().code]).toEqual([409, 'PHONE_TAKEN']);
    const sameEmail = await api('POST', '/users', superAdmin, newUserBody({ email: 'TAKEN@example.in' }));
    expect([sameEmail.statusCode, sameEmail.json().code]).toEqual([409, 'EMAIL_TAKEN']);
  });

  it('a caller creates only roles below its own', async () => {
    const peer = await api('POST', '/users', adminA, newUserBody({ role: 'provider_admin' }));
    expect([peer.statusCode, peer.json().code]).toEqual([403, 'FORBIDDEN']);
    const above = await api('POST', '/users', managerX, newUserBody({ role: 'provider_admin', provider_id: providerA }));
    expect(above.statusCode).toBe(403);
    const junior = await signInWith(ctx, 'senior_agent');
    expect((await api('POST', '/users', junior, newUserBody({ role: 'policyholder' }))).statusCode).toBe(403);
  });

  it('a provider_admin creates users of its own provider only', async () => {
    const own = await api('POST', '/users', adminA, newUserBody());
    expect(own.statusCode).toBe(201);
    expect(own.json().provider_id).toBe(providerA);
    const other = await api('POST', '/users', adminA, newUserBody({ provider_id: providerB }));
    expect([other.statusCode, other.json().code]).toEqual([403, 'FORBIDDEN']);
  });

  it('a regional_manager creates users in its region or a sub-region, never a sibling region', async () => {
    const own = await api('POST', '/users', managerX, newUserBody());
    expect(own.json().region_id).toBe(regionX.id);
    const sub = await api('POST', '/users', managerX, newUserBody({ region_id: regionX1.id }));
    expect([sub.statusCode, sub.json().region_id]).toEqual([201, regionX1.id]);
    const sibling = await api('POST', '/users', managerX, newUserBody({ region_id: regionY.id }));
    expect(sibling.statusCode).toBe(403);
  });

  it('refuses unknown fields, unknown providers and a provider_admin without a provider with 422', async () => {
    const unknown = await api('POST', '/users', superAdmin, newUserBody({ is_admin: true }));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors[0].path).toContain('is_admin');
    const noProvider = await api('POST', '/users', superAdmin, newUserBody({ provider_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12' }));
    expect(noProvider.json().errors[0].path).toBe('/provider_id');
    const bare = await api('POST', '/users', superAdmin, newUserBody({ role: 'provider_admin' }));
    expect([bare.statusCode, bare.json().errors[0].path]).toEqual([422, '/provider_id']);
  });

  it('a retry with the same Idempotency-Key returns the first user and creates nothing new', async () => {
    const body = newUserBody();
    const headers = { 'idempotency-key': `create-${body.phone_number.slice(1)}` };
    const first = await api('POST', '/users', superAdmin, body, headers);
    const again = await api('POST', '/users', superAdmin, body, headers);
    expect(again.statusCode).toBe(201);
    expect(again.json().id).toBe(first.json().id);
    const found = await api('GET', `/users/search?q=${body.phone_number.slice(3)}`, superAdmin);
    expect(found.json().items).toHaveLength(1);
  });
});

describe('who sees whom', () => {
  let userOfA: { id: string };
  let userOfB: { id: string };
  let agentOfA: { id: string };
  let userInX1: { id: string };
  let userInY: { id: string };
  let agentInX1: { id: string };

  beforeAll(async () => {
    userOfA = await userWith(ctx, 'junior_agent', { providerId: providerA });
    userOfB = await userWith(ctx, 'junior_agent', { providerId: providerB });
    agentOfA = await userWith(ctx, 'senior_agent');
    await insertAgent(ctx, agentOfA.id, { providers: [{ id: providerA, type: 'life' }] });
    userInX1 = await userWith(ctx, 'policyholder', { regionId: regionX1.id });
    userInY = await userWith(ctx, 'policyholder', { regionId: regionY.id });
    agentInX1 = await userWith(ctx, 'junior_agent');
    await insertAgent(ctx, agentInX1.id, { regionId: regionX1.id });
  });

  it('a provider_admin cannot GET, PUT or DELETE a user of another provider: 404 each', async () => {
    expect((await api('GET', `/users/${userOfB.id}`, adminA)).statusCode).toBe(404);
    expect((await api('PUT', `/users/${userOfB.id}`, adminA, { full_name: 'Taken Over' })).statusCode).toBe(404);
    expect((await api('DELETE', `/users/${userOfB.id}`, adminA)).statusCode).toBe(404);
    expect((await api('PUT', `/users/${userOfB.id}/status`, adminA, { status: 'suspended', reason: 'x' })).statusCode).toBe(404);
    expect((await api('GET', `/users/${userOfB.id}/preferences`, adminA)).statusCode).toBe(404);
    expect((await api('GET', `/users/${userOfB.id}`, adminB)).statusCode).toBe(200);
  });

  it('a provider_admin sees its provider\'s users and the agents linked to its provider', async () => {
    expect((await api('GET', `/users/${userOfA.id}`, adminA)).statusCode).toBe(200);
    expect((await api('GET', `/users/${agentOfA.id}`, adminA)).statusCode).toBe(200);
    expect((await api('GET', `/users/${agentOfA.id}`, adminB)).statusCode).toBe(404);
  });

  it('a regional_manager sees users and agents of a sub-region but not of a sibling region', async () => {
    expect((await api('GET', `/users/${userInX1.id}`, managerX)).statusCode).toBe(200);
    expect((await api('GET', `/users/${agentInX1.id}`, managerX)).statusCode).toBe(200);
    expect((await api('GET', `/users/${userInY.id}`, managerX)).statusCode).toBe(404);
    expect((await api('PUT', `/users/${userInY.id}`, managerX, { full_name: 'Taken Over' })).statusCode).toBe(404);
    expect((await api('DELETE', `/users/${userInY.id}`, managerX)).statusCode).toBe(404);
    expect((await api('GET', `/users/${userOfA.id}`, managerX)).statusCode).toBe(404);
  });

  it('a junior agent and a policyholder see only themselves', async () => {
    for (const role of ['junior_agent', 'policyholder'] as const) {
      const me = await signInWith(ctx, role);
      expect((await api('GET', `/users/${me.userId}`, me)).statusCode).toBe(200);
      expect((await api('GET', `/users/${userOfA.id}`, me)).statusCode).toBe(404);
      expect((await api('PUT', `/users/${userOfA.id}`, me, { full_name: 'Someone Else' })).statusCode).toBe(404);
      expect((await api('GET', `/users/${userOfA.id}/preferences`, me)).statusCode).toBe(404);
      const found = await api('GET', '/users/search?limit=100', me);
      expect(found.json().items.map((u: { id: string }) => u.id)).toEqual([me.userId]);
    }
  });

  it('a super_admin sees everyone; an unknown id is 404 and a malformed one too', async () => {
    expect((await api('GET', `/users/${userInY.id}`, superAdmin)).statusCode).toBe(200);
    expect((await api('GET', '/users/01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12', superAdmin)).statusCode).toBe(404);
    expect((await api('GET', '/users/not-a-uuid', superAdmin)).statusCode).toBe(404);
  });
});

describe('editing users', () => {
  it('a user edits its own name and email; the version and ETag move on', async () => {
    const me = await signInWith(ctx, 'junior_agent');
    const before = await api('GET', `/users/${me.userId}`, me);
    expect(before.headers.etag).toBe('W/"1"');
    const response = await api('PUT', `/users/${me.userId}`, me, { full_name: 'Renamed Person', email: 'renamed@example.in' });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('W/"2"');
    expect(response.json()).toMatchObject({ full_name: 'Renamed Person', email: 'renamed@example.in', role: 'junior_agent' });
    const audit = (await auditActions(me.userId)).find((e) => e.action === 'user.updated');
    expect(audit?.changes).toEqual({ full_name: ['Test junior_agent', 'Renamed Person'], email: [null, 'renamed@example.in'] });
  });

  it('nobody sets their own role, status, provider or region: 403, and nothing changes', async () => {
    for (const body of [{ role: 'senior_agent' }, { status: 'inactive' }, { provider_id: providerA }, { full_name: 'Sneaky', role: 'policyholder' }]) {
      const response = await api('PUT', `/users/${adminA.userId}`, adminA, body);
      expect([response.statusCode, response.json().code]).toEqual([403, 'FORBIDDEN']);
    }
    const self = await api('PUT', `/users/${superAdmin.userId}/status`, superAdmin, { status: 'suspended', reason: 'testing' });
    expect(self.statusCode).toBe(403);
    const after = await api('GET', `/users/${adminA.userId}`, adminA);
    expect(after.json()).toMatchObject({ role: 'provider_admin', status: 'active', full_name: 'Test provider_admin' });
  });

  it('refuses an unknown field (mass assignment) with 422, naming it', async () => {
    const me = await signInWith(ctx, 'policyholder');
    for (const body of [{ phone_number: '+919800000009' }, { password_hash: 'x' }, { version: 9 }]) {
      const response = await api('PUT', `/users/${me.userId}`, me, body);
      expect(response.statusCode).toBe(422);
      const field = Object.keys(body)[0];
      expect(response.json().errors).toContainEqual({ path: `/${field}`, message: 'is not an accepted field' });
    }
  });

  it('an administrator changes the role of a user below it, but not to its own rank, nor a peer', async () => {
    const target = await userWith(ctx, 'junior_agent', { providerId: providerA });
    const promoted = await api('PUT', `/users/${target.id}`, adminA, { role: 'senior_agent' });
    expect([promoted.statusCode, promoted.json().role]).toEqual([200, 'senior_agent']);
    expect((await auditActions(target.id)).some((e) => e.action === 'user.role_changed')).toBe(true);
    const tooHigh = await api('PUT', `/users/${target.id}`, adminA, { role: 'provider_admin' });
    expect(tooHigh.statusCode).toBe(403);
    const peer = await userWith(ctx, 'provider_admin', { providerId: providerA });
    expect((await api('PUT', `/users/${peer.id}`, adminA, { full_name: 'Peer Renamed' })).statusCode).toBe(403);
    expect((await api('GET', `/users/${peer.id}`, adminA)).statusCode).toBe(200);
  });

  it('a stale If-Match answers 412 and changes nothing; the current one succeeds', async () => {
    const target = await userWith(ctx, 'policyholder', { providerId: providerA });
    const first = await api('PUT', `/users/${target.id}`, adminA, { full_name: 'First Edit' }, { 'if-match': 'W/"1"' });
    expect([first.statusCode, first.headers.etag]).toEqual([200, 'W/"2"']);
    const stale = await api('PUT', `/users/${target.id}`, adminA, { full_name: 'Lost Update' }, { 'if-match': 'W/"1"' });
    expect([stale.statusCode, stale.json().code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect((await api('GET', `/users/${target.id}`, adminA)).json().full_name).toBe('First Edit');
  });

  it('If-None-Match with the current ETag answers 304 without a body; an old one gets the user', async () => {
    const me = await signInWith(ctx, 'policyholder');
    const current = await api('GET', `/users/${me.userId}`, me);
    const cached = await api('GET', `/users/${me.userId}`, me, undefined, { 'if-none-match': current.headers.etag as string });
    expect(cached.statusCode).toBe(304);
    expect(cached.body).toBe('');
    expect(cached.headers.etag).toBe(current.headers.etag);
    const old = await api('GET', `/users/${me.userId}`, me, undefined, { 'if-none-match': 'W/"0"' });
    expect(old.statusCode).toBe(200);
  });

  it('refuses an email another account uses with 409 EMAIL_TAKEN', async () => {
    await userWith(ctx, 'policyholder', { email: 'already@example.in' });
    const me = await signInWith(ctx, 'policyholder');
    const response = await api('PUT', `/users/${me.userId}`, me, { email: 'Already@example.in' });
    expect([response.statusCode, response.json().code]).toEqual([409, 'EMAIL_TAKEN']);
  });
});

describe('status and deletion', () => {
  it('suspending a user ends its sessions at once and blocks sign-in', async () => {
    const target = await signInWith(ctx, 'junior_agent', { providerId: providerA });
    expect((await api('GET', '/auth/me', target)).statusCode).toBe(200);
    const response = await api('PUT', `/users/${target.userId}/status`, adminA, { status: 'suspended', reason: 'Complaint under review' });
    expect([response.statusCode, response.json().status]).toEqual([200, 'suspended']);
    expect((await api('GET', '/auth/me', target)).statusCode).toBe(401);
    const refresh = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: target.refreshToken } });
    expect(refresh.statusCode).toBe(401);
    const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: target.phone, password: TEST_PASSWORD } });
    expect(login.json().code).toBe('ACCOUNT_DISABLED');
    const reactivated = await api('PUT', `/users/${target.userId}/status`, adminA, { status: 'active', reason: 'Cleared' });
    expect(reactivated.json().status).toBe('active');
    expect((await signIn(ctx, target.phone)).userId).toBe(target.userId);
  });

  it('deactivating through PUT /users/{id} also ends the sessions', async () => {
    const target = await signInWith(ctx, 'policyholder', { regionId: regionX1.id });
    const response = await api('PUT', `/users/${target.userId}`, managerX, { status: 'inactive' });
    expect([response.statusCode, response.json().status]).toEqual([200, 'inactive']);
    expect((await api('GET', '/auth/me', target)).statusCode).toBe(401);
  });

  it('a status the account already has is not a transition: 409 INVALID_TRANSITION', async () => {
    const target = await userWith(ctx, 'policyholder', { providerId: providerA });
    const response = await api('PUT', `/users/${target.id}/status`, adminA, { status: 'active', reason: 'again' });
    expect([response.statusCode, response.json().code]).toEqual([409, 'INVALID_TRANSITION']);
  });

  it('deleting is soft: the record stays, sessions end, sign-in answers as for an unknown user', async () => {
    const target = await signInWith(ctx, 'senior_agent', { providerId: providerA });
    expect((await api('DELETE', `/users/${target.userId}`, adminA)).statusCode).toBe(204);
    expect((await api('GET', '/auth/me', target)).statusCode).toBe(401);
    const kept = await api('GET', `/users/${target.userId}`, adminA);
    expect([kept.statusCode, kept.json().status]).toEqual([200, 'deleted']);
    const login = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: target.phone, password: TEST_PASSWORD } });
    expect([login.statusCode, login.json().code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect((await api('DELETE', `/users/${target.userId}`, adminA)).statusCode).toBe(409);
    const listed = await api('GET', `/users/search?limit=100`, adminA);
    expect(listed.json().items.map((u: { id: string }) => u.id)).not.toContain(target.userId);
    const deleted = await api('GET', `/users/search?status=deleted&limit=100`, adminA);
    expect(deleted.json().items.map((u: { id: string }) => u.id)).toContain(target.userId);
    expect((await auditActions(target.userId)).map((e) => e.action)).toEqual(expect.arrayContaining(['user.deleted', 'auth.session_ended']));
  });

  it('nobody deletes itself, and agents cannot delete at all', async () => {
    expect((await api('DELETE', `/users/${adminA.userId}`, adminA)).statusCode).toBe(403);
    const agent = await signInWith(ctx, 'senior_agent');
    expect((await api('DELETE', `/users/${agent.userId}`, agent)).statusCode).toBe(403);
  });
});

describe('bulk status changes', () => {
  it('judges each user on its own and reports every outcome', async () => {
    const ok1 = await signInWith(ctx, 'junior_agent', { providerId: providerA });
    const ok2 = await userWith(ctx, 'policyholder', { providerId: providerA });
    const outOfScope = await userWith(ctx, 'policyholder', { providerId: providerB });
    const peer = await userWith(ctx, 'provider_admin', { providerId: providerA });
    const gone = await userWith(ctx, 'policyholder', { providerId: providerA });
    await api('DELETE', `/users/${gone.id}`, adminA);
    const unknown = '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12';
    const ids = [ok1.userId, outOfScope.id, peer.id, adminA.userId, gone.id, unknown, ok2.id];
    const response = await api('POST', '/users/bulk', adminA, { action: 'suspend', user_ids: ids });
    expect(response.statusCode).toBe(200);
    expect(response.json().results).toEqual([
      { user_id: ok1.userId, ok: true },
      { user_id: outOfScope.id, ok: false, code: 'NOT_FOUND' },
      { user_id: peer.id, ok: false, code: 'FORBIDDEN' },
      { user_id: adminA.userId, ok: false, code: 'FORBIDDEN' },
      { user_id: gone.id, ok: false, code: 'INVALID_TRANSITION' },
      { user_id: unknown, ok: false, code: 'NOT_FOUND' },
      { user_id: ok2.id, ok: true },
    ]);
    expect((await api('GET', '/auth/me', ok1)).statusCode).toBe(401);
    expect((await api('GET', `/users/${outOfScope.id}`, superAdmin)).json().status).toBe('active');
    expect((await auditActions(ok2.id)).filter((e) => e.action === 'user.status_changed')).toHaveLength(1);
    const summary = await api('GET', '/audit-events?action=user.bulk&limit=1', superAdmin);
    expect(summary.json().items[0].changes).toEqual({ action: 'suspend', requested: 7, changed: 2, refused: 5 });
  });

  it('bulk delete and activate follow the same transitions', async () => {
    const target = await userWith(ctx, 'policyholder', { regionId: regionX.id });
    const active = await api('POST', '/users/bulk', managerX, { action: 'activate', user_ids: [target.id] });
    expect(active.json().results[0]).toEqual({ user_id: target.id, ok: false, code: 'INVALID_TRANSITION' });
    const deleted = await api('POST', '/users/bulk', managerX, { action: 'delete', user_ids: [target.id] });
    expect(deleted.json().results[0]).toEqual({ user_id: target.id, ok: true });
    expect((await api('GET', `/users/${target.id}`, managerX)).json().status).toBe('deleted');
  });

  it('refuses duplicate ids, an empty list and more than 500 ids with 422, and agents with 403', async () => {
    const id = '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12';
    expect((await api('POST', '/users/bulk', superAdmin, { action: 'suspend', user_ids: [id, id] })).statusCode).toBe(422);
    expect((await api('POST', '/users/bulk', superAdmin, { action: 'suspend', user_ids: [] })).statusCode).toBe(422);
    const many = Array.from({ length: 501 }, (_, i) => `01936f4e-7c1a-7d3e-9a51-${String(i).padStart(12, '0')}`);
    expect((await api('POST', '/users/bulk', superAdmin, { action: 'suspend', user_ids: many })).statusCode).toBe(422);
    const agent = await signInWith(ctx, 'senior_agent');
    expect((await api('POST', '/users/bulk', agent, { action: 'suspend', user_ids: [id] })).statusCode).toBe(403);
  });
});

describe('preferences', () => {
  it('answers the defaults before anything is stored', async () => {
    const me = await signInWith(ctx, 'policyholder');
    const response = await api('GET', `/users/${me.userId}/preferences`, me);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      user_id: me.userId, language: 'en', timezone: 'Asia/Kolkata', notifications: { sms: true, email: true, push: true, whatsapp: true }, quiet_hours: null,
    });
  });

  it('stores the given fields and keeps the rest, channel by channel', async () => {
    const me = await signInWith(ctx, 'junior_agent');
    const first = await api('PUT', `/users/${me.userId}/preferences`, me, { language: 'hi', notifications: { whatsapp: false }, quiet_hours: { start: '22:00', end: '07:00' } });
    expect(first.statusCode).toBe(200);
    const second = await api('PUT', `/users/${me.userId}/preferences`, me, { timezone: 'UTC', notifications: { sms: false } }, { 'if-match': first.headers.etag as string });
    expect(second.json()).toMatchObject({ language: 'hi', timezone: 'UTC', notifications: { sms: false, email: true, push: true, whatsapp: false }, quiet_hours: { start: '22:00', end: '07:00' } });
    const read = await api('GET', `/users/${me.userId}/preferences`, me);
    expect(read.json()).toEqual(second.json());
    const stale = await api('PUT', `/users/${me.userId}/preferences`, me, { language: 'ta' }, { 'if-match': first.headers.etag as string });
    expect(stale.statusCode).toBe(412);
  });

  it('refuses an unknown language or time zone and a malformed quiet hour with 422', async () => {
    const me = await signInWith(ctx, 'policyholder');
    for (const body of [{ language: 'xx' }, { language: 'fr' }, { timezone: 'Mars/Olympus_Mons' }, { timezone: 'asia/kolkata' }, { quiet_hours: { start: '25:00', end: '07:00' } }]) {
      const response = await api('PUT', `/users/${me.userId}/preferences`, me, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(422);
    }
    expect((await api('PUT', `/users/${me.userId}/preferences`, me, { timezone: 'America/New_York' })).statusCode).toBe(200);
  });

  it('an administrator whose scope covers the user reads and sets them', async () => {
    const target = await userWith(ctx, 'policyholder', { regionId: regionX1.id });
    const set = await api('PUT', `/users/${target.id}/preferences`, managerX, { language: 'mr' });
    expect([set.statusCode, set.json().language]).toEqual([200, 'mr']);
    expect((await api('GET', `/users/${target.id}/preferences`, adminA)).statusCode).toBe(404);
  });

  it('an administrator may not set the preferences of a user it sees but does not outrank (403), and nothing changes', async () => {
    const fellowAdmin = await userWith(ctx, 'provider_admin', { providerId: providerA });
    const higherInRegion = await userWith(ctx, 'provider_admin', { providerId: providerB, regionId: regionX1.id });
    for (const [who, target] of [[adminA, fellowAdmin], [managerX, higherInRegion]] as const) {
      expect((await api('GET', `/users/${target.id}/preferences`, who)).statusCode).toBe(200);
      expect((await api('PUT', `/users/${target.id}/preferences`, who, { language: 'mr' })).statusCode).toBe(403);
      expect((await api('GET', `/users/${target.id}/preferences`, superAdmin)).json().language).not.toBe('mr');
    }
  });
});
