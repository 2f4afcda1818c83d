import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, createUser, type TestContext } from '../../test/helpers/app.js';
import { createActiveAgent, createCustomer, createProvider, createRegion, type AgentFixture } from '../../test/helpers/factories-directory.js';
import { createExampleProduct, insertPolicy } from '../../test/helpers/factories-policies.js';
import type { DB } from '../db/types.js';
import { Generation, PageCache, type PageCacheOutcome } from './page-cache.js';

let ctx: TestContext;
let db: Kysely<DB>;
let agent: AgentFixture;
let policyId: string;
let customerId: string;
let providerId: string;
let regionId: string;

beforeAll(async () => {
  ctx = await buildTestApp();
  db = ctx.database.db;
  providerId = (await createProvider(ctx)).id;
  const product = await createExampleProduct(ctx, providerId);
  regionId = (await createRegion(ctx)).id;
  agent = await createActiveAgent(ctx, { providerIds: [providerId], regionId });
  customerId = (await createCustomer(ctx, agent.agentId)).id;
  policyId = await insertPolicy(ctx, { productId: product, providerId, customerId, agentId: agent.agentId, createdBy: agent.userId });
}, 60_000);

afterAll(async () => {
  await ctx?.close();
});

/** The database, counting the queries sent through it (the first held back until `holdFirst` settles, if given). */
function counting(target: Kysely<DB>, holdFirst?: Promise<void>): { db: Kysely<DB>; queries: () => number } {
  let queries = 0;
  const proxy = new Proxy(target, {
    get(t, property) {
      if (property === 'executeQuery') {
        return async (...args: Parameters<Kysely<DB>['executeQuery']>) => {
          if (queries++ === 0 && holdFirst) await holdFirst;
          return t.executeQuery(...args);
        };
      }
      const value: unknown = Reflect.get(t, property);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
  return { db: proxy, queries: () => queries };
}

/** A committed change to the fixture policy (or, given a transaction, one inside it). */
const changePolicy = (on: Kysely<DB> = db) => on.updateTable('policies').set({ term_years: sql`term_years + 1` }).where('id', '=', policyId).execute();

/** A promise that stays pending until `open()`. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The count of committed changes under the policy list. */
const generationNow = async () =>
  BigInt((await sql<{ n: string }>`SELECT sum(generation)::text AS n FROM cache_generations WHERE name = 'policy_list'`.execute(db)).rows[0]!.n);

describe('a page cache on the policy_list generation', () => {
  let cache: PageCache<string>;
  let renders: number;
  let outcomes: PageCacheOutcome[];
  let text: string;
  const render = async () => {
    renders++;
    return text;
  };

  beforeEach(() => {
    renders = 0;
    outcomes = [];
    text = 'first';
    cache = new PageCache<string>({ textOf: (page) => page, generation: new Generation(db, 'policy_list'), maxSize: 1_000_000, observe: (o) => outcomes.push(o) });
  });

  it('serves a page again without rendering it while nothing under it changes', async () => {
    expect(await cache.get('k', render)).toBe('first');
    text = 'second';
    expect(await cache.get('k', render)).toBe('first');
    expect(await cache.get('other key', render)).toBe('second');
    expect(renders).toBe(2);
    expect(outcomes).toEqual(['miss', 'hit', 'miss']);
  });

  // Each change commits on its own; the page must be rendered again after every one.
  const changes: Array<[string, () => Promise<unknown>]> = [
    ['a policy', () => changePolicy()],
    ['a new policy', async () => insertPolicy(ctx, { productId: (await db.selectFrom('products').select('id').executeTakeFirstOrThrow()).id, providerId, customerId, agentId: agent.agentId, createdBy: agent.userId })],
    ['a policy\'s status history alone (the policy read answers it)', () => db.insertInto('policy_status_history').values({
      id: randomUUID(), policy_id: policyId, from_status: 'draft', to_status: 'draft', reason: 'history written on its own', actor_id: agent.userId, created_at: new Date(),
    }).execute()],
    ['a customer', () => db.updateTable('customers').set({ full_name: 'Renamed Customer' }).where('id', '=', customerId).execute()],
    ['an agent (team, region)', () => db.updateTable('agents').set({ manager_agent_id: null, version: sql`version + 1` }).where('id', '=', agent.agentId).execute()],
    ['an agent\'s providers', () => db.deleteFrom('agent_providers').where('agent_id', '=', agent.agentId).where('provider_id', '=', providerId).execute()],
    ['a region (path)', () => db.updateTable('regions').set({ name: 'Renamed Region' }).where('id', '=', regionId).execute()],
    ['a user\'s phone number (a policyholder\'s scope)', async () => {
      const user = await createUser(ctx, 'policyholder');
      text = 'after the new user';
      await cache.get('k', render); // a new user alone changes no one's scope
      expect(renders).toBe(1);
      await db.updateTable('users').set({ phone_number: '+919000000001' }).where('id', '=', user.id).execute();
    }],
    ['a user\'s phone proven or unproven (a policyholder\'s scope follows proven phones)', async () => {
      const user = await createUser(ctx, 'policyholder');
      await db.updateTable('users').set({ phone_verified_at: null }).where('id', '=', user.id).execute();
    }],
  ];

  it.each(changes)('renders again once a change to %s has committed', async (_what, change) => {
    await cache.get('k', render);
    expect(renders).toBe(1);
    const before = await generationNow();
    await change();
    expect(await generationNow()).toBeGreaterThan(before);
    text = 'changed';
    expect(await cache.get('k', render)).toBe('changed');
    expect(outcomes.at(-1)).toBe('stale');
    expect(await cache.get('k', render)).toBe('changed');
    expect(outcomes.at(-1)).toBe('hit');
  });

  it('keeps pages across what a sign-in writes (a user\'s last login, a session)', async () => {
    await cache.get('k', render);
    const before = await generationNow();
    await db.updateTable('users').set({ last_login_at: new Date(), phone_number: sql`phone_number`, phone_verified_at: sql`phone_verified_at` }).where('id', '=', agent.userId).execute();
    expect(await generationNow()).toBe(before);
    expect(await cache.get('k', render)).toBe('first');
    expect(renders).toBe(1);
  });

  it('counts one change per transaction, however many rows it writes, and none for a transaction rolled back', async () => {
    const before = await generationNow();
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('policies').set({ term_years: sql`term_years + 1` }).where('agent_id', '=', agent.agentId).execute();
      await trx.updateTable('customers').set({ full_name: 'Again Renamed' }).where('id', '=', customerId).execute();
      await trx.updateTable('policies').set({ term_years: sql`term_years - 1` }).where('agent_id', '=', agent.agentId).execute();
    });
    expect(await generationNow()).toBe(before + 1n);
    await cache.get('k', render);
    await expect(db.transaction().execute(async (trx) => {
      await trx.updateTable('policies').set({ term_years: 99 }).where('id', '=', policyId).execute();
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');
    expect(await generationNow()).toBe(before + 1n);
    expect(await cache.get('k', render)).toBe('first');
    expect(renders).toBe(1);
  });

  it('counts a change kept past a savepoint rolled back, and not one the savepoint took back', async () => {
    const before = await generationNow();
    await db.transaction().execute(async (trx) => {
      await sql`SAVEPOINT s`.execute(trx);
      await changePolicy(trx);
      await sql`ROLLBACK TO SAVEPOINT s`.execute(trx);
    });
    expect(await generationNow()).toBe(before);
    await db.transaction().execute(async (trx) => {
      await sql`SAVEPOINT s`.execute(trx);
      await changePolicy(trx);
      await sql`ROLLBACK TO SAVEPOINT s`.execute(trx);
      await changePolicy(trx);
    });
    expect(await generationNow()).toBe(before + 1n);
  });

  it('cannot be switched off by setting its once-per-transaction marker beforehand', async () => {
    const before = await generationNow();
    await db.transaction().execute(async (trx) => {
      await sql`SET LOCAL bima.counted_policy_list = 'on'`.execute(trx);
      await changePolicy(trx);
    });
    expect(await generationNow()).toBe(before + 1n);
  });

  it('tells a state from an earlier one with the same count (a restore, or a failover that lost commits), and keeps pages again at once', async () => {
    const slots = async () => (await db.selectFrom('cache_generations').select(['slot', 'generation']).where('name', '=', 'policy_list').execute());
    const seen = await slots();
    await changePolicy();
    text = 'built on a commit that will be lost';
    expect(await cache.get('k', render)).toBe(text);
    // The commit is lost: its counter row goes back to what it was.
    const moved = (await slots()).find((row) => seen.find((old) => old.slot === row.slot)!.generation !== row.generation)!;
    await db.updateTable('cache_generations').set({ generation: sql`generation - 1` }).where('name', '=', 'policy_list').where('slot', '=', moved.slot).execute();
    // Another change brings the count back to the same number.
    await changePolicy();
    text = 'after the failover';
    expect(await cache.get('k', render)).toBe('after the failover');
    expect(outcomes.at(-1)).toBe('stale');
    // And the new page is kept in place of the old one, though their counts are equal.
    expect(await cache.get('k', render)).toBe('after the failover');
    expect(outcomes.at(-1)).toBe('hit');
  });

  it('a TRUNCATE of a watched table moves the generation too (it fires no row triggers)', async () => {
    const before = await generationNow();
    // Emptying a real table would take other tests' fixtures: the function runs as the TRUNCATE triggers run it, on a probe table,
    // and the watched tables are checked to carry those triggers.
    await db.transaction().execute(async (trx) => {
      await sql`CREATE TEMP TABLE truncate_probe (LIKE regions) ON COMMIT DROP`.execute(trx);
      await sql`CREATE TRIGGER probe_truncate AFTER TRUNCATE ON truncate_probe FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_generation('policy_list')`.execute(trx);
      await sql`TRUNCATE truncate_probe`.execute(trx);
    });
    expect(await generationNow()).toBe(before + 1n);
    const triggers = await sql<{ definition: string }>`
      SELECT pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t WHERE t.tgname LIKE '%truncate_bumps_policy_list' ORDER BY t.tgname`.execute(db);
    expect(triggers.rows.map((r) => r.definition)).toEqual(['agent_providers', 'agents', 'customers', 'policies', 'policy_status_history', 'regions', 'users'].map((table) =>
      `CREATE TRIGGER ${table}_truncate_bumps_policy_list AFTER TRUNCATE ON public.${table} FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_generation('policy_list')`));
  });

  it('requests of one turn share one generation query, sent after all of them asked', async () => {
    const { db: observed, queries } = counting(db);
    const shared = new PageCache<string>({ textOf: (page) => page, generation: new Generation(observed, 'policy_list'), maxSize: 1_000_000 });
    await shared.get('k', render);
    expect(queries()).toBe(1);
    await Promise.all(Array.from({ length: 20 }, () => shared.get('k', render)));
    expect(queries()).toBe(2);
    expect(renders).toBe(1);
  });

  it('never lets a caller join a generation query already on its way, which could miss a change the caller saw commit', async () => {
    // The first query is held on its way until the second caller has asked.
    const held = gate();
    const { db: slow, queries } = counting(db, held.opened);
    const generation = new Generation(slow, 'policy_list');
    const early = generation.read();
    await new Promise((resolve) => setImmediate(resolve));
    expect(queries()).toBe(1);
    await changePolicy();
    const late = generation.read();
    expect(late).not.toBe(early);
    held.open();
    await Promise.all([early, late]);
    expect(queries()).toBe(2);
    expect((await late).startsWith(`${await generationNow()}:`)).toBe(true);
  });

  it('shares one render among requests for the same page at the same generation', async () => {
    const slowRender = gate();
    const slow = async () => {
      renders++;
      await slowRender.opened;
      return 'slow page';
    };
    const waiting = Promise.all(Array.from({ length: 5 }, () => cache.get('k', slow)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    slowRender.open();
    expect(await waiting).toEqual(Array(5).fill('slow page'));
    expect(renders).toBe(1);
  });

  it('does not hand a caller a render that began before a change it saw commit, nor let that render replace a newer page', async () => {
    const slowRender = gate();
    const early = cache.get('k', async () => {
      renders++;
      await slowRender.opened;
      return 'rendered before the change';
    });
    await new Promise((resolve) => setTimeout(resolve, 20)); // the early render has begun
    expect(renders).toBe(1);
    await changePolicy();
    text = 'rendered after the change';
    expect(await cache.get('k', render)).toBe('rendered after the change');
    slowRender.open();
    expect(await early).toBe('rendered before the change');
    expect(await cache.get('k', render)).toBe('rendered after the change');
    expect(renders).toBe(2);
    expect(outcomes.at(-1)).toBe('hit');
  });

  it('keeps nothing from a render that failed', async () => {
    await expect(cache.get('k', async () => { throw new Error('database went away'); })).rejects.toThrow('database went away');
    expect(await cache.get('k', render)).toBe('first');
    expect(outcomes).toEqual(['miss', 'miss']);
  });

  it('with no room (POLICY_LIST_CACHE_MB=0) renders every time and asks the database nothing more', async () => {
    const { db: observed, queries } = counting(db);
    const off = new PageCache<string>({ textOf: (page) => page, generation: new Generation(observed, 'policy_list'), maxSize: 0 });
    await off.get('k', render);
    await off.get('k', render);
    expect(renders).toBe(2);
    expect(queries()).toBe(0);
  });

  it('stays within its size, dropping the least recently used pages', async () => {
    const small = new PageCache<string>({ textOf: (page) => page, generation: new Generation(db, 'policy_list'), maxSize: 3 * (1000 + 256 + 2) });
    text = 'x'.repeat(1000);
    for (const key of ['p1', 'p2', 'p3', 'p4']) await small.get(key, render);
    expect(renders).toBe(4);
    await small.get('p4', render);
    expect(renders).toBe(4);
    await small.get('p1', render);
    expect(renders).toBe(5);
  });
});
