import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/bootstrap.js';
import { PasswordHasher } from '../../src/modules/auth/auth.passwords.js';
import { systemClock } from '../../src/shared/clock.js';
import { nextPhone, pageCacheLookups, TEST_PASSWORD, type TestContext } from '../helpers/app.js';
import { createActiveAgent, createCustomer, createProduct, createProvider } from '../helpers/factories-directory.js';
import { startInstances, type Instance } from './instances.js';

let cluster: Awaited<ReturnType<typeof startInstances>>;
let a: Instance;
let b: Instance;
beforeAll(async () => {
  cluster = await startInstances(2, { LOGIN_MAX_FAILURES: '3', AUTH_RATE_LIMIT_MAX: '100000' });
  [a, b] = cluster.instances as [Instance, Instance];
});
afterAll(() => cluster.stop());

async function newUser(): Promise<string> {
  const phone = nextPhone();
  await createAccount(a.database.db, new PasswordHasher(), systemClock, { phone, password: TEST_PASSWORD, fullName: 'Two Instances', role: 'policyholder' });
  return phone;
}
const login = (instance: Instance, phone: string, password = TEST_PASSWORD) =>
  instance.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { method: 'password', phone_number: phone, password } });

describe('two instances on one PostgreSQL and Redis', () => {
  it('a token from one instance works on the other, and logout on one is refused on the other at once', async () => {
    const phone = await newUser();
    const pair = (await login(a, phone)).json();
    const headers = { authorization: `Bearer ${pair.access_token}` };
    expect((await b.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers })).statusCode).toBe(200);
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers, payload: {} })).statusCode).toBe(204);
    const after = await b.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers });
    expect(after.statusCode).toBe(401);
    expect((await b.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: pair.refresh_token } })).statusCode).toBe(401);
  });

  it('once its mirror is live, an instance answers the revocation check from memory, with no Redis round trip', async () => {
    const phone = await newUser();
    const pair = (await login(a, phone)).json();
    const calls: string[] = [];
    b.kv.observer = (operation) => calls.push(operation);
    const answer = b.app.services.revocations.isRevoked(pair.session_id);
    expect(answer).toBe(false);
    await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${pair.access_token}` }, payload: {} });
    expect(b.app.services.revocations.isRevoked(pair.session_id)).toBe(true);
    expect(calls).not.toContain('exists');
  });

  it('an instance that starts later learns the sessions revoked before it started', async () => {
    const phone = await newUser();
    const pair = (await login(a, phone)).json();
    await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${pair.access_token}` }, payload: {} });
    const { RevocationStore } = await import('../../src/modules/auth/auth.revocation.js');
    const { Broadcast } = await import('../../src/shared/broadcast.js');
    const broadcast = new Broadcast(b.kv);
    const late = new RevocationStore(b.kv, broadcast, 900);
    await broadcast.start();
    expect(late.isRevoked(pair.session_id)).toBe(true);
    await broadcast.stop();
  });

  it('a change to a user made on one instance is seen on the other at once, though it had the user cached', async () => {
    const adminPhone = nextPhone();
    await createAccount(a.database.db, new PasswordHasher(), systemClock, { phone: adminPhone, password: TEST_PASSWORD, fullName: 'Cluster Admin', role: 'super_admin' });
    const admin = { authorization: `Bearer ${(await login(a, adminPhone)).json().access_token}` };
    const pair = (await login(b, await newUser())).json();
    const me = () => b.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${pair.access_token}` } });
    expect((await me()).json().user.full_name).toBe('Two Instances');
    const current = await a.app.inject({ method: 'GET', url: `/api/v1/users/${pair.user.id}`, headers: admin });
    const renamed = await a.app.inject({ method: 'PUT', url: `/api/v1/users/${pair.user.id}`, headers: { ...admin, 'if-match': current.headers.etag as string }, payload: { full_name: 'Renamed Elsewhere' } });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect((await me()).json().user.full_name).toBe('Renamed Elsewhere');
  });

  it('a product taken off sale on one instance is refused by the other\'s next quote, though it had the product cached', async () => {
    const adminPhone = nextPhone();
    await createAccount(a.database.db, new PasswordHasher(), systemClock, { phone: adminPhone, password: TEST_PASSWORD, fullName: 'Catalogue Admin', role: 'super_admin' });
    const admin = { authorization: `Bearer ${(await login(a, adminPhone)).json().access_token}` };
    const seller = { authorization: `Bearer ${(await login(b, await newUser())).json().access_token}` };
    const provider = await createProvider(a as unknown as TestContext);
    const product = await createProduct(a as unknown as TestContext, provider.id);
    const quote = () => b.app.inject({ method: 'POST', url: '/api/v1/policies/quote', headers: seller,
      payload: { product_id: product.id, date_of_birth: '1990-01-01', sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'annual' } });
    expect((await quote()).statusCode).toBe(200);
    const off = await a.app.inject({ method: 'PUT', url: `/api/v1/providers/${provider.id}/products/${product.id}`, headers: admin, payload: { status: 'inactive' } });
    expect(off.statusCode, off.body).toBe(200);
    const refused = await quote();
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors[0].message).toMatch(/^PRODUCT_NOT_ACTIVE/);
  });

  it('a policy edited through one instance is on the other\'s next page of the list and next read, though it had both cached', async () => {
    const asContext = { ...a, clock: systemClock } as unknown as TestContext;
    const provider = await createProvider(asContext);
    const product = await createProduct(asContext, provider.id);
    const seller = await createActiveAgent(asContext, { providerIds: [provider.id] });
    const customer = await createCustomer(asContext, seller.agentId);
    const draft = await a.app.inject({ method: 'POST', url: '/api/v1/policies', headers: seller.headers,
      payload: { product_id: product.id, customer_id: customer.id, sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'annual' } });
    expect(draft.statusCode, draft.body).toBe(201);
    const page = async () => (await b.app.inject({ method: 'GET', url: '/api/v1/policies', headers: seller.headers })).json().items as Array<{ term_years: number }>;
    expect((await page()).map((p) => p.term_years)).toEqual([20]);
    const before = await pageCacheLookups(b.app, 'policy_list', 'hit');
    expect((await page()).map((p) => p.term_years)).toEqual([20]);
    expect(await pageCacheLookups(b.app, 'policy_list', 'hit')).toBe(before + 1);
    const read = async () => {
      const response = await b.app.inject({ method: 'GET', url: `/api/v1/policies/${draft.json().id}`, headers: seller.headers });
      return { etag: response.headers.etag, term_years: response.json().term_years as number };
    };
    await read();
    const readHits = await pageCacheLookups(b.app, 'policy_detail', 'hit');
    expect(await read()).toEqual({ etag: 'W/"1"', term_years: 20 });
    expect(await pageCacheLookups(b.app, 'policy_detail', 'hit')).toBe(readHits + 1);
    const edit = await a.app.inject({ method: 'PUT', url: `/api/v1/policies/${draft.json().id}`, headers: { ...seller.headers, 'if-match': 'W/"1"' }, payload: { term_years: 25 } });
    expect(edit.statusCode, edit.body).toBe(200);
    expect((await page()).map((p) => p.term_years)).toEqual([25]);
    expect(await read()).toEqual({ etag: 'W/"2"', term_years: 25 });
  });

  it('a lockout counts failures across instances', async () => {
    const phone = await newUser();
    await login(a, phone, 'wrong password one');
    await login(b, phone, 'wrong password two');
    await login(a, phone, 'wrong password three');
    expect((await login(b, phone)).statusCode).toBe(423);
  });

  it('refresh-token reuse is caught even when the two uses hit different instances', async () => {
    const phone = await newUser();
    const pair = (await login(a, phone)).json();
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: pair.refresh_token } })).statusCode).toBe(200);
    const reuse = await b.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: pair.refresh_token } });
    expect(reuse.json().code).toBe('REFRESH_TOKEN_REUSED');
  });

  it('the OTP cooldown holds across instances', async () => {
    const phone = await newUser();
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/otp', payload: { phone_number: phone, purpose: 'login' } })).statusCode).toBe(202);
    expect((await b.app.inject({ method: 'POST', url: '/api/v1/auth/otp', payload: { phone_number: phone, purpose: 'login' } })).statusCode).toBe(429);
  });

  it('sequences for policy numbers and agent codes never collide between instances', async () => {
    const draw = (instance: Instance, sequence: string) =>
      Promise.all(Array.from({ length: 100 }, () => instance.database.db.selectNoFrom((eb) => eb.fn<number>('nextval', [eb.val(sequence)]).as('n')).executeTakeFirstOrThrow()));
    for (const sequence of ['policy_number_seq', 'agent_code_seq']) {
      const values = (await Promise.all([draw(a, sequence), draw(b, sequence)])).flat().map((r) => Number(r.n));
      expect(new Set(values).size).toBe(200);
    }
  });
});

describe('migrations when instances start together', () => {
  it('apply once under the migration lock, whichever instance gets there first', async () => {
    const { createTestDatabase } = await import('../helpers/app.js');
    const { createDatabase } = await import('../../src/db/database.js');
    const { migrateToLatest, migrations } = await import('../../src/db/migrate.js');
    const fresh = await createTestDatabase();
    const handles = Array.from({ length: 3 }, () => createDatabase(fresh.url, { poolMax: 2 }));
    const results = await Promise.all(handles.map((h) => migrateToLatest(h.db)));
    const applied = results.flatMap((r) => (r.results ?? []).filter((m) => m.status === 'Success').map((m) => m.migrationName));
    expect(applied.sort()).toEqual(Object.keys(migrations).sort());
    for (const h of handles) await h.close();
    await fresh.drop();
  });
});

describe('rate limits shared through Redis', () => {
  let limited: Awaited<ReturnType<typeof startInstances>>;
  let general: Awaited<ReturnType<typeof startInstances>>;
  afterAll(async () => {
    await limited.stop();
    await general.stop();
  });

  it('the general limit counts requests to both instances together, one flush interval behind at most', async () => {
    general = await startInstances(2, { RATE_LIMIT_MAX: '10' });
    const [x, y] = general.instances as [Instance, Instance];
    const send = (instance: Instance) => instance.app.inject({ method: 'GET', url: '/api/v1/auth/me', remoteAddress: '203.0.113.61' });
    for (let i = 0; i < 6; i++) expect((await send(x)).statusCode).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // y asks Redis on its first request (7), then counts locally: 8, 9, 10, and the 11th is over the limit.
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(y)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
  });

  it('the auth limit counts requests to both instances together', async () => {
    limited = await startInstances(2, { AUTH_RATE_LIMIT_MAX: '4' });
    const [x, y] = limited.instances as [Instance, Instance];
    const send = (instance: Instance) => instance.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '203.0.113.60', payload: { method: 'password', phone_number: nextPhone(), password: 'some wrong password' } });
    const statuses = [(await send(x)).statusCode, (await send(y)).statusCode, (await send(x)).statusCode, (await send(y)).statusCode, (await send(x)).statusCode];
    expect(statuses.slice(0, 4)).not.toContain(429);
    expect(statuses[4]).toBe(429);
  });
});
