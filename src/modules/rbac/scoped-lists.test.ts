import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, signInAs, type SignedIn, type TestContext } from '../../../test/helpers/app.js';
import {
  createActiveAgent, createCustomer, createProvider, createRegion, insertAgentsInRegion, signInRegionalManager,
  signInProviderAdmin, type AgentFixture, type ProviderFixture, type RegionFixture,
} from '../../../test/helpers/factories-directory.js';
import { createExampleProduct, insertPolicy } from '../../../test/helpers/factories-policies.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import { SHORT_USER_LIST, shortUserList } from '../users/users.repository.js';
import { SHORT_AGENT_LIST, shortAgentList, type Actor } from './rbac.scope.js';

/**
 * A scope that is a short list (a senior's team, a small region's agents or
 * users) is read member by member and merged; a larger one through its
 * condition. Both must answer the same pages: every row in scope once, in
 * order, ties broken by id, filters and cursors honoured, nothing of anyone
 * else's. Each list is walked here by callers of both kinds.
 */
let ctx: TestContext;
let provider: ProviderFixture;
let region: RegionFixture;
let district: RegionFixture;
let lead: AgentFixture;
const team: AgentFixture[] = [];
/** Team in a district; the district's region also holds SHORT_AGENT_LIST other agents, so its manager's scope is not a short list. */
let districtManager: SignedIn;
let regionManager: SignedIn;
let otherSenior: AgentFixture;
let otherManager: SignedIn;
/** A policy sold elsewhere (by otherSenior): in the provider admin's scope, in no regional manager's. */
let outsidePolicy: string;

type Who = { headers: Record<string, string> };
const get = (who: Who, url: string) => ctx.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: who.headers });
/** Every item of a list, page by page (`limit` per page). */
async function walk(who: Who, path: string, query = '', limit = 4): Promise<Array<Record<string, unknown> & { id: string }>> {
  const items: Array<Record<string, unknown> & { id: string }> = [];
  let cursor: string | null = null;
  do {
    const response = await get(who, `${path}?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(response.statusCode, response.body).toBe(200);
    items.push(...response.json().items);
    cursor = response.json().next_cursor;
  } while (cursor);
  return items;
}

interface Row { id: string; created_at: string; agent_id: string; status: string; full_name: string }
const book: Row[] = [];
const customers: Row[] = [];
const byDate = (rows: Row[], direction: 1 | -1) => [...rows].sort((a, b) => direction * (a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id))).map((r) => r.id);

beforeAll(async () => {
  ctx = await buildTestApp();
  provider = await createProvider(ctx);
  const product = await createExampleProduct(ctx, provider.id);
  region = await createRegion(ctx);
  district = await createRegion(ctx, { parent: region });
  lead = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id], regionId: district.id });
  team.push(lead);
  for (let i = 0; i < 3; i++) team.push(await createActiveAgent(ctx, { providerIds: [provider.id], regionId: district.id, managerAgentId: lead.agentId }));
  await insertAgentsInRegion(ctx, region.id, SHORT_AGENT_LIST);
  districtManager = await signInRegionalManager(ctx, district.id);
  regionManager = await signInRegionalManager(ctx, region.id);
  // Interleaved across the team, with instants shared between members (the id breaks the tie).
  const names = ['Zoya Khan', 'arjun Rao', 'Meera Iyer', 'Kabir Das', 'aditi Nair', 'Rohan Shah'];
  for (let n = 0; n < 24; n++) {
    const seller = team[(n * 7) % team.length]!;
    const createdAt = new Date(Date.UTC(2026, 2, 1) + Math.floor(n / 3) * 60_000);
    const customer = await createCustomer(ctx, seller.agentId, { fullName: names[n % names.length]! });
    await sql`UPDATE customers SET created_at = ${createdAt} WHERE id = ${customer.id}`.execute(ctx.database.db);
    customers.push({ id: customer.id, created_at: createdAt.toISOString(), agent_id: seller.agentId, status: '', full_name: names[n % names.length]! });
    const status = n % 3 === 0 ? 'active' : 'draft';
    const id = await insertPolicy(ctx, { productId: product, providerId: provider.id, customerId: customer.id, agentId: seller.agentId, createdBy: seller.userId, status, createdAt });
    book.push({ id, created_at: createdAt.toISOString(), status, agent_id: seller.agentId, full_name: '' });
  }
  // Outsiders with books of their own.
  const elsewhere = await createRegion(ctx);
  otherSenior = await createActiveAgent(ctx, { role: 'senior_agent', providerIds: [provider.id], regionId: elsewhere.id });
  const otherJunior = await createActiveAgent(ctx, { providerIds: [provider.id], regionId: elsewhere.id, managerAgentId: otherSenior.agentId });
  for (const seller of [otherSenior, otherJunior]) {
    const customer = await createCustomer(ctx, seller.agentId);
    outsidePolicy = await insertPolicy(ctx, { productId: product, providerId: provider.id, customerId: customer.id, agentId: seller.agentId, createdBy: seller.userId });
  }
  otherManager = await signInRegionalManager(ctx, elsewhere.id);
}, 60_000);
afterAll(() => ctx.close());

/** Another senior and another region's manager list rows of their own, and none of `ours`. */
async function outsidersSeeNoneOf(path: string, ours: Row[]): Promise<void> {
  const ids = new Set(ours.map((row) => row.id));
  for (const who of [otherSenior, otherManager]) {
    const seen = await walk(who, path);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((row) => ids.has(row.id))).toEqual([]);
  }
}

/** Callers are signed in by beforeAll, after it.each reads this list: hence thunks. */
const readers = [['the team\'s senior', () => lead], ['the district\'s manager (a short list)', () => districtManager], ['the region\'s manager (not one)', () => regionManager]] as const;

describe('the policy list over a scope of several agents', () => {
  it.each(readers)('%s pages through the whole book in order, newest and oldest first', async (_, reader) => {
    const who = reader();
    expect((await walk(who, '/policies')).map((p) => p.id)).toEqual(byDate(book, -1));
    expect((await walk(who, '/policies', '&sort=created_at')).map((p) => p.id)).toEqual(byDate(book, 1));
  });

  it.each(readers)('%s: filters and bounds apply inside each member\'s book', async (_, reader) => {
    const who = reader();
    expect((await walk(who, '/policies', '&status=active')).map((p) => p.id)).toEqual(byDate(book.filter((p) => p.status === 'active'), -1));
    const member = book[1]!.agent_id;
    expect((await walk(who, '/policies', `&agent_id=${member}&sort=created_at`)).map((p) => p.id)).toEqual(byDate(book.filter((p) => p.agent_id === member), 1));
    const bound = book[10]!.created_at;
    expect((await walk(who, '/policies', `&created_to=${bound}`)).map((p) => p.id)).toEqual(byDate(book.filter((p) => p.created_at < bound), -1));
  });

  it('another senior and another region\'s manager see none of it', () => outsidersSeeNoneOf('/policies', book));
});

describe('the customer list over a scope of several agents', () => {
  it.each(readers)('%s pages through every customer by date, both ways', async (_, reader) => {
    const who = reader();
    expect((await walk(who, '/customers')).map((c) => c.id)).toEqual(byDate(customers, -1));
    expect((await walk(who, '/customers', '&sort=created_at')).map((c) => c.id)).toEqual(byDate(customers, 1));
    const member = customers[2]!.agent_id;
    expect((await walk(who, '/customers', `&agent_id=${member}`)).map((c) => c.id)).toEqual(byDate(customers.filter((c) => c.agent_id === member), -1));
  });

  it.each(readers)('%s finds customers by name inside each member\'s book', async (_, reader) => {
    const found = await walk(reader(), '/customers', `&q=${encodeURIComponent('Meera')}&sort=full_name`, 2);
    expect(found.map((c) => c.id).sort()).toEqual(customers.filter((c) => c.full_name === 'Meera Iyer').map((c) => c.id).sort());
  });

  it.each(readers)('%s pages through every customer by name, both ways', async (_, reader) => {
    const who = reader();
    const ids = customers.map((c) => c.id);
    // The database's own collation orders names; this asks it directly, outside the API.
    const { rows } = await sql<{ id: string }>`SELECT id FROM customers WHERE id = ANY(${ids}::uuid[]) ORDER BY full_name, id`.execute(ctx.database.db);
    const byName = rows.map((r) => r.id);
    expect((await walk(who, '/customers', '&sort=full_name')).map((c) => c.id)).toEqual(byName);
    expect((await walk(who, '/customers', '&sort=-full_name')).map((c) => c.id)).toEqual([...byName].reverse());
  });

  it('another senior and another region\'s manager see none of them', () => outsidersSeeNoneOf('/customers', customers));
});

describe('users and the audit trail over a regional manager\'s or provider admin\'s scope', () => {
  /** A region and a provider of more than SHORT_USER_LIST users, whose scopes are not short lists. */
  let large: RegionFixture;
  let largeManager: SignedIn;
  let largeProvider: ProviderFixture;
  let largeProviderAdmin: SignedIn;
  let providerAdmin: SignedIn;
  let largeUsers: string[];
  const context = (actorId: string | null): AuditContext => ({ actorId, actorRole: null, requestId: null, ip: null, userAgent: null });
  const append = (actorId: string | null, entityType: string, entityId: string) =>
    ctx.database.db.transaction().execute((trx) => appendAuditEvent(trx, context(actorId), { action: 'test.scoped', entityType, entityId }, ctx.clock.now()));

  beforeAll(async () => {
    large = await createRegion(ctx);
    largeProvider = await createProvider(ctx);
    largeUsers = await insertAgentsInRegion(ctx, large.id, SHORT_USER_LIST, largeProvider);
    largeManager = await signInRegionalManager(ctx, large.id);
    largeProviderAdmin = await signInProviderAdmin(ctx, largeProvider.id);
    providerAdmin = await signInProviderAdmin(ctx, provider.id);
    const outsider = (await signInAs(ctx, 'policyholder')).userId;
    const [a, b] = [team[1]!.userId, team[2]!.userId];
    await append(a, 'user', b); // by one member about another: listed once
    await append(outsider, 'user', a); // about a member
    await append(b, 'policy', book[0]!.id); // by a member, about a policy in scope
    await append(b, 'policy', outsidePolicy); // by a member, about a policy only a provider admin's scope holds
    await append(b, 'user', outsider); // by a member, about a user out of scope: no one's but super_admin's
    await append(outsider, 'user', outsider); // neither
    await append(largeUsers[5]!, 'user', largeUsers[900]!);
    await append(largeUsers[5]!, 'policy', outsidePolicy); // read by the trail's walk, not a short list: out of reach there too
    await append(outsider, 'user', largeUsers[17]!);
  }, 60_000);

  type Scope = { region: string } | { provider: string };
  /** Users the reference query places in a scope, in the search's order: the API must page through exactly these. */
  async function usersOf(scope: Scope, managerId: string, order: 'created_at' | 'full_name', direction: 'asc' | 'desc', deleted = false) {
    const key = order === 'full_name' ? sql`lower(u.full_name)` : sql`u.created_at`;
    const dir = sql.raw(direction);
    const members = 'region' in scope
      ? sql`u.region_id IN (SELECT id FROM regions WHERE path LIKE ${scope.region + '%'})
        OR u.id IN (SELECT a.user_id FROM agents a JOIN regions r ON r.id = a.region_id WHERE r.path LIKE ${scope.region + '%'})`
      : sql`u.provider_id = ${scope.provider}
        OR u.id IN (SELECT a.user_id FROM agents a JOIN agent_providers ap ON ap.agent_id = a.id WHERE ap.provider_id = ${scope.provider})`;
    const { rows } = await sql<{ id: string }>`
      SELECT u.id FROM users u WHERE (${deleted} OR u.status <> 'deleted') AND (u.id = ${managerId} OR ${members})
      ORDER BY ${key} ${dir}, u.id ${dir}`.execute(ctx.database.db);
    return rows.map((r) => r.id);
  }

  const managers: ReadonlyArray<readonly [string, () => SignedIn, () => Scope]> = [
    ['the district\'s manager', () => districtManager, () => ({ region: district.path })],
    ['the region\'s manager', () => regionManager, () => ({ region: region.path })],
    ['a manager of more than SHORT_USER_LIST users', () => largeManager, () => ({ region: large.path })],
    ['a provider admin', () => providerAdmin, () => ({ provider: provider.id })],
    ['an admin of a provider of more than SHORT_USER_LIST users', () => largeProviderAdmin, () => ({ provider: largeProvider.id })],
  ];

  it.each(managers)('%s finds its users, and only them, in either order and either direction', async (_, who, path) => {
    for (const [sort, order, direction] of [['', 'created_at', 'desc'], ['&sort=created_at', 'created_at', 'asc'], ['&sort=full_name', 'full_name', 'asc'], ['&sort=-full_name', 'full_name', 'desc']] as const) {
      const expected = await usersOf(path(), who().userId, order, direction);
      expect(expected.length).toBeGreaterThan(4);
      expect((await walk(who(), '/users/search', sort, 50)).map((u) => u.id), sort).toEqual(expected);
    }
  });

  it('a short list still takes the search\'s filters: text, role and cursor', async () => {
    const found = await walk(districtManager, '/users/search', `&q=${encodeURIComponent('Test junior')}`, 2);
    expect(found.map((u) => u.id).sort()).toEqual(team.slice(1).map((m) => m.userId).sort());
    expect((await walk(districtManager, '/users/search', '&role=senior_agent')).map((u) => u.id)).toEqual([lead.userId]);
  });

  it.each(managers)('%s reads the events about its users, and those by them about policies in its scope, each once, newest first', async (_, who, path) => {
    // The trail shows events of deleted users too: the scope here is every user, whatever the status.
    const scope = path();
    const inScope = new Set(await usersOf(scope, who().userId, 'created_at', 'desc', true));
    const policies = 'region' in scope
      ? sql`SELECT p.id::text FROM policies p JOIN agents a ON a.id = p.agent_id JOIN regions r ON r.id = a.region_id WHERE r.path LIKE ${scope.region + '%'}`
      : sql`SELECT p.id::text FROM policies p WHERE p.provider_id = ${scope.provider}`;
    const { rows } = await sql<{ id: string }>`
      SELECT id FROM audit_events WHERE action = 'test.scoped' AND (
        (entity_type = 'user' AND entity_id = ANY(${[...inScope]}::text[]))
        OR (actor_id = ANY(${[...inScope]}::uuid[]) AND entity_type = 'policy' AND entity_id IN (${policies})))
      ORDER BY seq DESC`.execute(ctx.database.db);
    expect(rows.length).toBeGreaterThan(0);
    expect((await walk(who(), '/audit-events', '&action=test.scoped', 2)).map((e) => e.id)).toEqual(rows.map((r) => r.id));
  });

  it('the trail\'s filters apply inside each user\'s events', async () => {
    const [a, b] = [team[1]!.userId, team[2]!.userId];
    const ids = async (query: string) => (await walk(districtManager, '/audit-events', `&action=test.scoped${query}`, 2)).map((e) => [e.actor_id, e.entity_type, e.entity_id]);
    expect(await ids('&entity_type=policy')).toEqual([[b, 'policy', book[0]!.id]]);
    expect(await ids(`&actor_id=${a}`)).toEqual([[a, 'user', b]]);
    expect(await ids(`&entity_type=user&entity_id=${a}`)).toEqual([[expect.any(String), 'user', a]]);
    expect(await ids('&to=2000-01-01T00:00:00Z')).toEqual([]);
  });

  it('the district\'s manager sees an event by one member about another once, and no event of outsiders', async () => {
    const seen = await walk(districtManager, '/audit-events', '&action=test.scoped', 2);
    expect(seen.map((e) => [e.actor_id, e.entity_type])).toEqual([
      [team[2]!.userId, 'policy'],
      [expect.any(String), 'user'],
      [team[1]!.userId, 'user'],
    ]);
  });
});

describe('where a scope stops being a short list', () => {
  const managerOf = (regionPath: string, userId: string): Actor => ({
    userId, sessionId: 'test', role: 'regional_manager', providerId: null, regionId: null, regionPath, agentId: null, agentStatus: null, teamAgentIds: [],
  });

  it('a region of SHORT_AGENT_LIST agents is a list of them; one more, and it is not', async () => {
    const edge = await createRegion(ctx);
    await insertAgentsInRegion(ctx, edge.id, SHORT_AGENT_LIST);
    const actor = managerOf(edge.path, (await signInRegionalManager(ctx, edge.id)).userId);
    expect(await shortAgentList(ctx.database.db, actor)).toHaveLength(SHORT_AGENT_LIST);
    await insertAgentsInRegion(ctx, edge.id, 1);
    expect(await shortAgentList(ctx.database.db, actor)).toBeNull();
  });

  it('a user counted twice (placed in the region and one of its agents) is one of `max`', async () => {
    const edge = await createRegion(ctx);
    const agents = await insertAgentsInRegion(ctx, edge.id, 3);
    await sql`UPDATE users SET region_id = ${edge.id} WHERE id = ${agents[0]!}`.execute(ctx.database.db);
    const manager = await signInRegionalManager(ctx, edge.id);
    const actor = managerOf(edge.path, manager.userId);
    // The manager (itself and placed in the region) and three agents, one of them placed too: 4 users in 6 rows.
    expect((await shortUserList(ctx.database.db, actor, 4))?.sort()).toEqual([manager.userId, ...agents].sort());
    expect(await shortUserList(ctx.database.db, actor, 3)).toBeNull();
  });
});
