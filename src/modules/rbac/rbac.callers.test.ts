import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, createUser, signIn, signInAs, type TestContext } from '../../../test/helpers/app.js';
import { createActiveAgent, createCustomer, createProvider, createRegion, signInProviderAdmin } from '../../../test/helpers/factories-directory.js';
import { createExampleProduct, insertPolicy } from '../../../test/helpers/factories-policies.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

const me = (headers: { authorization: string }) => ctx.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers });

describe('the caller cache', () => {
  it('answers repeated requests without reading the user again: a change made behind the service is not seen until dropped', async () => {
    const user = await signInAs(ctx, 'policyholder');
    expect((await me(user.headers)).json().user.full_name).toBe('Test policyholder');
    await ctx.database.db.updateTable('users').set({ full_name: 'Changed Behind Its Back' }).where('id', '=', user.userId).execute();
    expect((await me(user.headers)).json().user.full_name).toBe('Test policyholder');
    await ctx.app.services.callers.changed([user.userId]);
    expect((await me(user.headers)).json().user.full_name).toBe('Changed Behind Its Back');
  });

  it('requests that find an entry gone share one load, and a change meanwhile makes later ones load afresh', async () => {
    const user = await signInAs(ctx, 'policyholder');
    const callers = ctx.app.services.callers;
    await callers.changed([user.userId]);
    const observed = ctx.database.queryObserver;
    let loads = 0;
    ctx.database.queryObserver = (event) => {
      if (/from "users" left join "regions"/.test(event.query.sql)) loads++;
      observed?.(event);
    };
    try {
      const together = await Promise.all(Array.from({ length: 10 }, () => callers.user(user.userId)));
      expect(together.every((row) => row?.id === user.userId)).toBe(true);
      expect(loads).toBe(1);
      const racing = callers.user(user.userId);
      await ctx.database.db.updateTable('users').set({ full_name: 'Changed During A Load' }).where('id', '=', user.userId).execute();
      await callers.changed([user.userId]);
      expect((await callers.user(user.userId))?.full_name).toBe('Changed During A Load');
      await racing;
    } finally {
      ctx.database.queryObserver = observed;
    }
  });

  it('a change to one user leaves another user\'s load alone: it is kept (sign-in storms drop entries all the time)', async () => {
    const reader = await signInAs(ctx, 'policyholder');
    const other = await signInAs(ctx, 'policyholder');
    const callers = ctx.app.services.callers;
    await callers.changed([reader.userId]);
    const loading = callers.user(reader.userId);
    await callers.changed([other.userId]);
    expect((await loading)?.full_name).toBe('Test policyholder');
    await ctx.database.db.updateTable('users').set({ full_name: 'Not Read Again' }).where('id', '=', reader.userId).execute();
    // Served from the entry that load kept, not read again.
    expect((await callers.user(reader.userId))?.full_name).toBe('Test policyholder');
  });

  it('never holds a password hash', async () => {
    const user = await signInAs(ctx, 'policyholder');
    const row = await ctx.app.services.callers.user(user.userId);
    expect(row?.id).toBe(user.userId);
    expect(row?.password_hash).toBeNull();
  });

  it('a role change by an administrator applies to the user\'s very next request', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    const region = await createRegion(ctx);
    const target = await createUser(ctx, 'policyholder');
    const user = await signIn(ctx, target.phone);
    expect((await me(user.headers)).json().role).toBe('policyholder');
    const current = await ctx.app.inject({ method: 'GET', url: `/api/v1/users/${target.id}`, headers: admin.headers });
    const changed = await ctx.app.inject({
      method: 'PUT', url: `/api/v1/users/${target.id}`, headers: { ...admin.headers, 'if-match': current.headers.etag as string }, payload: { role: 'regional_manager', region_id: region.id },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    const after = (await me(user.headers)).json();
    expect(after.role).toBe('regional_manager');
    expect(after.permissions).toContain('agent.*');
  });

  it('a demoted administrator loses a permission on its next request, though its access token still names the old role', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    const provider = await createProvider(ctx);
    const demoted = await signInProviderAdmin(ctx, provider.id);
    const rules = () => ctx.app.inject({ method: 'GET', url: `/api/v1/providers/${provider.id}/metrics`, headers: demoted.headers });
    expect((await rules()).statusCode).toBe(200);
    const region = await createRegion(ctx);
    const current = await ctx.app.inject({ method: 'GET', url: `/api/v1/users/${demoted.userId}`, headers: admin.headers });
    const changed = await ctx.app.inject({
      method: 'PUT', url: `/api/v1/users/${demoted.userId}`, headers: { ...admin.headers, 'if-match': current.headers.etag as string },
      payload: { role: 'regional_manager', provider_id: null, region_id: region.id },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    const refused = await rules();
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toContain('provider.read');
  });

  it('an agent placed under a senior agent joins that senior\'s scope at once', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    const provider = await createProvider(ctx, { type: 'life' });
    const product = await createExampleProduct(ctx, provider.id);
    const senior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id] });
    const junior = await createActiveAgent(ctx, { providerIds: [provider.id] });
    const customer = await createCustomer(ctx, junior.agentId);
    const policyId = await insertPolicy(ctx, { productId: product, providerId: provider.id, customerId: customer.id, agentId: junior.agentId, createdBy: junior.userId });
    const read = () => ctx.app.inject({ method: 'GET', url: `/api/v1/policies/${policyId}`, headers: senior.headers });
    expect((await read()).statusCode).toBe(404);
    const agent = await ctx.app.inject({ method: 'GET', url: `/api/v1/agents/${junior.agentId}`, headers: admin.headers });
    const moved = await ctx.app.inject({
      method: 'PUT', url: `/api/v1/agents/${junior.agentId}`, headers: { ...admin.headers, 'if-match': agent.headers.etag as string }, payload: { manager_agent_id: senior.agentId },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect((await read()).statusCode).toBe(200);
  });

  it('a suspended agent is refused on its next request, with no wait for the cache to expire', async () => {
    const admin = await signInAs(ctx, 'super_admin');
    const agent = await createActiveAgent(ctx);
    const list = () => ctx.app.inject({ method: 'GET', url: '/api/v1/policies', headers: agent.headers });
    expect((await list()).statusCode).toBe(200);
    const suspended = await ctx.app.inject({ method: 'POST', url: `/api/v1/agents/${agent.agentId}/suspend`, headers: admin.headers, payload: { reason: 'Audit' } });
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect((await list()).statusCode).toBe(401);
    // A fresh session of the suspended agent sees its new standing too.
    const again = await signIn(ctx, agent.phone);
    expect((await ctx.app.inject({ method: 'GET', url: '/api/v1/policies', headers: again.headers })).statusCode).toBe(403);
  });
});

describe('near the end of an entry\'s life (CALLER_CACHE_TTL_S=1)', () => {
  it('a request is answered from the cache at once while the caller is read again behind it', async () => {
    const short = await buildTestApp({ env: { CALLER_CACHE_TTL_S: '1' } });
    try {
      const user = await signInAs(short, 'policyholder');
      const name = async () => (await short.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: user.headers })).json().user.full_name as string;
      expect(await name()).toBe('Test policyholder');
      await short.database.db.updateTable('users').set({ full_name: 'Read Again Behind' }).where('id', '=', user.userId).execute();
      await new Promise((resolve) => setTimeout(resolve, 800));
      // Past three quarters of its second (reloads start between a half and three quarters): still served, and a reload starts.
      expect(await name()).toBe('Test policyholder');
      let seen = await name();
      for (let i = 0; i < 40 && seen !== 'Read Again Behind'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        seen = await name();
      }
      expect(seen).toBe('Read Again Behind');
    } finally {
      await short.close();
    }
  });
});

describe('with the cache turned off (CALLER_CACHE_TTL_S=0)', () => {
  it('every request reads the caller afresh', async () => {
    const off = await buildTestApp({ env: { CALLER_CACHE_TTL_S: '0' } });
    try {
      const user = await signInAs(off, 'policyholder');
      expect((await off.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: user.headers })).json().user.full_name).toBe('Test policyholder');
      await off.database.db.updateTable('users').set({ full_name: 'Read Afresh' }).where('id', '=', user.userId).execute();
      expect((await off.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: user.headers })).json().user.full_name).toBe('Read Afresh');
    } finally {
      await off.close();
    }
  });
});
