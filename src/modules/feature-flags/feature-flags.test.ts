import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signInAs, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import { bucketOf, isEnabledFor, type FeatureFlag } from './feature-flags.service.js';

let ctx: TestContext;
let admin: SignedIn;
beforeAll(async () => {
  ctx = await buildTestApp();
  admin = await signInAs(ctx, 'super_admin');
});
afterAll(() => ctx.close());

const put = (key: string, body: object, session = admin) => ctx.app.inject({ method: 'PUT', url: `/api/v1/feature-flags/${key}`, headers: session.headers, payload: body });

describe('feature flags', () => {
  it('super_admin creates and changes a flag; the change is audited', async () => {
    const created = await put('new-quote-flow', { enabled: true, roles: ['junior_agent'], description: 'New quote screens' });
    expect(created.statusCode).toBe(200);
    expect(created.json()).toMatchObject({ key: 'new-quote-flow', enabled: true, roles: ['junior_agent'], percentage: null, enabled_for_me: false });
    const changed = await put('new-quote-flow', { enabled: false });
    expect(changed.json()).toMatchObject({ enabled: false, description: 'New quote screens' });
    const audit = await ctx.database.db.selectFrom('audit_events').select('action').where('entity_id', '=', 'new-quote-flow').execute();
    expect(audit).toHaveLength(2);
  });

  it('only super_admin may change flags', async () => {
    const agent = await signInAs(ctx, 'senior_agent');
    const response = await put('sneaky', { enabled: true }, agent);
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('FORBIDDEN');
  });

  it('every signed-in user lists flags with whether each is on for them', async () => {
    await put('agents-only', { enabled: true, roles: ['junior_agent'] });
    const agent = await signInAs(ctx, 'junior_agent');
    const holder = await signInAs(ctx, 'policyholder');
    const forAgent = (await ctx.app.inject({ method: 'GET', url: '/api/v1/feature-flags', headers: agent.headers })).json();
    const forHolder = (await ctx.app.inject({ method: 'GET', url: '/api/v1/feature-flags', headers: holder.headers })).json();
    expect(forAgent.items.find((f: FeatureFlag) => f.key === 'agents-only').enabled_for_me).toBe(true);
    expect(forHolder.items.find((f: FeatureFlag) => f.key === 'agents-only').enabled_for_me).toBe(false);
  });

  it('refuses malformed keys and out-of-range percentages', async () => {
    expect((await put('Bad Key!', { enabled: true })).statusCode).toBe(404);
    expect((await put('ok-key', { enabled: true, percentage: 101 })).statusCode).toBe(422);
  });
});

describe('targeting', () => {
  const flag = (over: Partial<FeatureFlag>): FeatureFlag => ({ key: 'k', enabled: true, roles: null, percentage: null, description: null, updated_at: new Date(), ...over });

  it('a percentage rollout is stable per user and close to the share asked for', () => {
    const users = Array.from({ length: 2000 }, (_, i) => ({ id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`, role: 'junior_agent' as const }));
    const on = users.filter((u) => isEnabledFor(flag({ percentage: 25 }), u));
    expect(on.length).toBeGreaterThan(400);
    expect(on.length).toBeLessThan(600);
    expect(users.every((u) => bucketOf('k', u.id) === bucketOf('k', u.id))).toBe(true);
    expect(users.filter((u) => isEnabledFor(flag({ percentage: 0 }), u))).toHaveLength(0);
  });

  it('disabled beats everything; roles narrow; anonymous sees only untargeted flags', () => {
    expect(isEnabledFor(flag({ enabled: false }), { id: 'x', role: 'super_admin' })).toBe(false);
    expect(isEnabledFor(flag({ roles: ['policyholder'] }), { id: 'x', role: 'junior_agent' })).toBe(false);
    expect(isEnabledFor(flag({}), null)).toBe(true);
    expect(isEnabledFor(flag({ roles: ['policyholder'] }), null)).toBe(false);
  });
});
