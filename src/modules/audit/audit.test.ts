import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, nextPhone, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import { createActiveAgent, createProvider, signInProviderAdmin } from '../../../test/helpers/factories-directory.js';
import { createExampleProduct } from '../../../test/helpers/factories-policies.js';
import { insertProvider, insertRegion, signInWith } from '../../../test/helpers/factories-users.js';
import { hashEvent } from './audit.repository.js';
import { verifyAuditChain } from './audit.verify.js';

let ctx: TestContext;
let superAdmin: SignedIn;

beforeAll(async () => {
  ctx = await buildTestApp();
  superAdmin = await signInWith(ctx, 'super_admin');
});
afterAll(() => ctx.close());

interface EventItem { id: string; seq: number; action: string; entity_type: string; entity_id: string | null; actor_id: string | null; changes: Record<string, unknown> | null }
const events = async (who: SignedIn, query = '') => {
  const response = await ctx.app.inject({ method: 'GET', url: `/api/v1/audit-events?${query}`, headers: who.headers });
  return { status: response.statusCode, items: (response.statusCode === 200 ? response.json().items : []) as EventItem[], body: response.json() };
};
const createUser = (who: SignedIn, body: Record<string, unknown>) =>
  ctx.app.inject({ method: 'POST', url: '/api/v1/users', headers: who.headers, payload: { phone_number: nextPhone(), full_name: 'Audit Subject', role: 'policyholder', ...body } });

/** Tampering needs the append-only trigger out of the way, exactly as an attacker with DDL rights would do it. */
async function withoutTrigger(change: () => Promise<unknown>): Promise<void> {
  const db = ctx.database.db;
  await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`.execute(db);
  try {
    await change();
  } finally {
    await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`.execute(db);
  }
}

describe('reading the audit trail', () => {
  it('a super_admin reads every event newest first, page by page without repeats', async () => {
    for (let i = 0; i < 6; i++) expect((await createUser(superAdmin, {})).statusCode).toBe(201);
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await events(superAdmin, `limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      seqs.push(...page.items.map((e) => e.seq));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seqs.length).toBeGreaterThanOrEqual(8);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.at(-1)).toBe(1);
  });

  it('each event carries who, what, when, where from and its hash, but never the chain internals', async () => {
    const created = await createUser(superAdmin, { full_name: 'Shape Check' });
    const [event] = (await events(superAdmin, `entity_id=${created.json().id}&action=user.created`)).items;
    expect(Object.keys(event!).sort()).toEqual(['action', 'actor_id', 'actor_role', 'changes', 'entity_id', 'entity_type', 'hash', 'id', 'ip_address', 'occurred_at', 'request_id', 'seq', 'user_agent']);
    expect(event).toMatchObject({ actor_id: superAdmin.userId, actor_role: 'super_admin', entity_type: 'user', changes: { role: 'policyholder', password_set: false } });
  });

  it('filters by action, actor, entity and time', async () => {
    const created = await createUser(superAdmin, {});
    const id = created.json().id as string;
    const byEntity = await events(superAdmin, `entity_type=user&entity_id=${id}`);
    expect(byEntity.items.map((e) => e.action)).toEqual(['user.created']);
    const byActor = await events(superAdmin, `actor_id=${superAdmin.userId}&action=user.created&limit=100`);
    expect(byActor.items.every((e) => e.actor_id === superAdmin.userId && e.action === 'user.created')).toBe(true);
    const future = new Date(ctx.clock.now().getTime() + 60_000).toISOString();
    expect((await events(superAdmin, `from=${future}`)).items).toEqual([]);
    expect((await events(superAdmin, `to=${future}&entity_id=${id}`)).items).toHaveLength(1);
  });

  it('a provider_admin sees only events about or by users of its provider', async () => {
    const providerA = await insertProvider(ctx);
    const providerB = await insertProvider(ctx);
    const adminA = await signInWith(ctx, 'provider_admin', { providerId: providerA });
    const ofA = (await createUser(superAdmin, { provider_id: providerA })).json().id as string;
    const ofB = (await createUser(superAdmin, { provider_id: providerB })).json().id as string;
    const byAdminA = (await createUser(adminA, {})).json().id as string;
    const seen = await events(adminA, 'limit=100');
    const entities = new Set(seen.items.map((e) => e.entity_id));
    expect(entities.has(ofA)).toBe(true);
    expect(entities.has(byAdminA)).toBe(true);
    expect(entities.has(ofB)).toBe(false);
    expect(seen.items.every((e) => e.actor_id === adminA.userId || e.entity_type === 'user')).toBe(true);
    expect((await events(adminA, `entity_id=${ofB}`)).items).toEqual([]);
  });

  it('a regional_manager sees events of users in its region and sub-regions only', async () => {
    const root = await insertRegion(ctx);
    const west = await insertRegion(ctx, root);
    const westSub = await insertRegion(ctx, west);
    const east = await insertRegion(ctx, root);
    const manager = await signInWith(ctx, 'regional_manager', { regionId: west.id });
    const inSub = (await createUser(superAdmin, { region_id: westSub.id })).json().id as string;
    const inEast = (await createUser(superAdmin, { region_id: east.id })).json().id as string;
    expect((await events(manager, `entity_id=${inSub}`)).items.map((e) => e.action)).toEqual(['user.created']);
    expect((await events(manager, `entity_id=${inEast}`)).items).toEqual([]);
  });

  it('an agent linked to two insurers acts for both: each insurer\'s admin reads in the trail only what the agent did for it', async () => {
    const life = await createProvider(ctx, { type: 'life' });
    const health = await createProvider(ctx, { type: 'health' });
    const agent = await createActiveAgent(ctx, { providerIds: [life.id, health.id] });
    const created = await ctx.app.inject({ method: 'POST', url: '/api/v1/customers', headers: agent.headers,
      payload: { full_name: 'Shared Customer', date_of_birth: '1990-06-01', gender: 'female', phone_number: nextPhone() } });
    expect(created.statusCode, created.body).toBe(201);
    const customer = created.json().id as string;
    const sell = async (providerId: string) => {
      const response = await ctx.app.inject({ method: 'POST', url: '/api/v1/policies', headers: agent.headers, payload: {
        product_id: await createExampleProduct(ctx, providerId), customer_id: customer, sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'annual' } });
      expect(response.statusCode, response.body).toBe(201);
      return response.json().id as string;
    };
    const [lifePolicy, healthPolicy] = [await sell(life.id), await sell(health.id)];
    const signInAs = async (providerId: string) => signInProviderAdmin(ctx, providerId);
    for (const [admin, own, other] of [[await signInAs(life.id), lifePolicy, healthPolicy], [await signInAs(health.id), healthPolicy, lifePolicy]] as const) {
      const byAgent = await events(admin, `actor_id=${agent.userId}&limit=100`);
      const policies = byAgent.items.filter((e) => e.entity_type === 'policy').map((e) => e.entity_id);
      expect(policies).toEqual([own]);
      expect((await events(admin, `entity_type=policy&entity_id=${other}`)).items).toEqual([]);
      // The agent's customer is the insurer's to see (customers of its agents), and so is its creation.
      expect(byAgent.items.some((e) => e.entity_type === 'customer' && e.entity_id === customer)).toBe(true);
    }
    // Both stay in the whole trail.
    expect((await events(superAdmin, `actor_id=${agent.userId}&entity_type=policy`)).items.map((e) => e.entity_id).sort()).toEqual([lifePolicy, healthPolicy].sort());
  });

  it('agents and policyholders are refused with 403', async () => {
    for (const role of ['senior_agent', 'junior_agent', 'policyholder'] as const) {
      const who = await signInWith(ctx, role);
      expect((await events(who)).status).toBe(403);
    }
  });

  it('refuses unknown filters and a forged cursor with 422', async () => {
    expect((await events(superAdmin, 'password=1')).status).toBe(422);
    expect((await events(superAdmin, 'cursor=abc')).status).toBe(422);
  });
});

describe('the hash chain', () => {
  it('direct UPDATE and DELETE on audit_events are refused by the database', async () => {
    const db = ctx.database.db;
    await expect(sql`UPDATE audit_events SET action = 'nothing.happened' WHERE seq = 1`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit_events WHERE seq = 1`.execute(db)).rejects.toThrow(/append-only/);
  });

  it('verifies after many events of many kinds', async () => {
    const provider = await insertProvider(ctx);
    for (let i = 0; i < 20; i++) {
      const id = (await createUser(superAdmin, { provider_id: provider })).json().id as string;
      await ctx.app.inject({ method: 'PUT', url: `/api/v1/users/${id}`, headers: superAdmin.headers, payload: { full_name: `Renamed ${i}` } });
      if (i % 4 === 0) await ctx.app.inject({ method: 'PUT', url: `/api/v1/users/${id}/status`, headers: superAdmin.headers, payload: { status: 'suspended', reason: 'audit test' } });
    }
    const count = await ctx.database.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const report = await verifyAuditChain(ctx.database.db, 16);
    expect(report).toEqual({ ok: true, events: Number(count.n) });
    expect(report.events).toBeGreaterThan(50);
  });

  it('the hash the database computes is the one verification recomputes, for any text: Devanagari, emoji, quotes, newlines, nested keys named seq', async () => {
    const { appendAuditEvent } = await import('./audit.repository.js');
    const awkward = { full_name: ['नमस्ते दुनिया', 'Zoë "Z" O\'Brien\n😀'], nested: { seq: -9007199254740991, '"seq"': 'x', deep: [{ b: 1, a: null }] } };
    const context = { actorId: null, actorRole: 'system', requestId: 'req-ü', ip: '2001:db8::1', userAgent: 'Mozilla/5.0 (मोबाइल) "quoted"\\' };
    await ctx.database.db.transaction().execute((trx) => appendAuditEvent(trx, context, { action: 'test.unicode', entityType: 'user', entityId: 'ख', changes: awkward }, new Date()));
    const row = await ctx.database.db.selectFrom('audit_events').selectAll().where('action', '=', 'test.unicode').executeTakeFirstOrThrow();
    expect(row.changes).toEqual(awkward);
    const { prev_hash: prevHash, hash, ...fields } = row;
    expect(hashEvent(prevHash, { ...fields, seq: Number(fields.seq) })).toBe(hash);
    expect((await verifyAuditChain(ctx.database.db, 16)).ok).toBe(true);
  });

  it('detects an edited event and names it; restoring the row makes the chain whole again', async () => {
    const db = ctx.database.db;
    const target = await db.selectFrom('audit_events').select(['seq', 'changes']).where('action', '=', 'user.updated').orderBy('seq').offset(3).limit(1).executeTakeFirstOrThrow();
    await withoutTrigger(() => db.updateTable('audit_events').set({ changes: JSON.stringify({ full_name: ['x', 'Someone Else'] }) }).where('seq', '=', target.seq).execute());
    const report = await verifyAuditChain(db, 16);
    expect(report).toMatchObject({ ok: false, brokenAt: Number(target.seq), reason: 'content does not match its hash' });
    await withoutTrigger(() => db.updateTable('audit_events').set({ changes: JSON.stringify(target.changes) }).where('seq', '=', target.seq).execute());
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('detects an edited event whose hash was recomputed: the next event no longer links to it', async () => {
    const db = ctx.database.db;
    const original = await db.selectFrom('audit_events').selectAll().where('seq', '=', 5).executeTakeFirstOrThrow();
    const { prev_hash: prevHash, hash: _hash, ...fields } = original;
    const forged = { ...fields, action: 'user.nothing_happened', occurred_at: new Date(original.occurred_at) };
    await withoutTrigger(() => db.updateTable('audit_events').set({ action: forged.action, hash: hashEvent(prevHash, forged) }).where('seq', '=', 5).execute());
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 6, reason: 'link to the previous event does not match' });
    await withoutTrigger(() => db.updateTable('audit_events').set({ action: original.action, hash: original.hash }).where('seq', '=', 5).execute());
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('detects a deleted event in the middle of the chain', async () => {
    const db = ctx.database.db;
    const head = await db.selectFrom('audit_chain_head').select('seq').executeTakeFirstOrThrow();
    const middle = Math.floor(Number(head.seq) / 2);
    await withoutTrigger(() => db.deleteFrom('audit_events').where('seq', '=', middle).execute());
    expect(await verifyAuditChain(db, 16)).toMatchObject({ ok: false, brokenAt: middle, reason: `event ${middle} is missing` });
  });
});
