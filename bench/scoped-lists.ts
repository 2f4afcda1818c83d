/**
 * Regional lists for regions of every size (docs/architecture.md, "Scopes
 * that are short lists"). Districts of 3 to 1,000 agents are carved out of
 * one state of the bench's book; for each, the state and the country, every
 * list a regional manager reads is timed as the API reads it and as the
 * scope's condition alone would (the walk), median of 40 calls in process,
 * through the API's own database layer (postgres.js, prepared statements).
 *
 *   npm run bench:scopes                # a fresh bima_bench_* database, full sizes and a 500,000-event trail, dropped after
 *   npm run bench:scopes -- --db URL    # an existing bench database (npm run bench -- --keep-db)
 *
 * The walk of the policy list leaves out the JSON rendering the API's own
 * path includes (about 0.1 ms a page): it flatters the walk, not the merge.
 */
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { createDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { DB } from '../src/db/types.js';
import { AuditService } from '../src/modules/audit/audit.service.js';
import { listCustomers } from '../src/modules/customers/customers.repository.js';
import { listPolicies, policyScope } from '../src/modules/policies/policies.repository.js';
import { agentScope, shortAgentList, type Actor } from '../src/modules/rbac/rbac.scope.js';
import { searchUsers, shortUserList, userIdsInScope, userScope } from '../src/modules/users/users.repository.js';
import { hashPassword } from './argon2-rate.js';
import { BENCH_PASSWORD } from './fixtures.js';
import * as infra from './infra.js';
import { seedDatabase } from './seed.js';

const DISTRICTS = [3, 10, 30, 100, 300, 1000];
const CALLS = 40;

const { values } = parseArgs({ options: { db: { type: 'string' }, 'admin-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' } } });
const created = values.db ? null : `bima_bench_scopes_${Date.now()}`;
const url = values.db ?? (await infra.createDatabase(values['admin-url'], created!));
if (!/^postgres:\/\/([^@/]*@)?(127\.0\.0\.1|localhost)(:\d+)?\/bima_bench_[a-z0-9_]+$/.test(url)) throw new Error(`only a local bima_bench_* database, not ${url}`);
const database = createDatabase(url);
const db = database.db;

try {
  await migrateToLatest(db);
  if (created) {
    await seedDatabase(url, { users: 100_000, agents: 10_000, customers: 50_000, policies: 200_000 }, await hashPassword(BENCH_PASSWORD));
    await seedAuditTrail(db);
  }
  const paths = [...(await carveDistricts(db)), 'IN/MH/', 'IN/'];
  const manager = (await db.selectFrom('users').select('id').where('role', '=', 'regional_manager').executeTakeFirstOrThrow()).id;
  console.log(`Median ms per page of 20 over ${CALLS} calls: as the API reads it / by the scope's condition alone.\n`);
  console.log('| region | agents | users | policies | customers by date | customers by name | user search | audit trail |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const path of paths) console.log(await row(db, manager, path));
} finally {
  await database.close();
  if (created) await infra.dropDatabase(values['admin-url'], created);
}

/**
 * A trail of 500,000 events over 300 days: 250,000 by agents about their
 * policies (the reader's reach is asked of these) and 250,000 about users.
 * Written directly, outside the hash chain: only the reading is measured.
 */
async function seedAuditTrail(kdb: Kysely<DB>): Promise<void> {
  const started = performance.now();
  await sql`INSERT INTO audit_events (seq, id, occurred_at, actor_id, actor_role, action, entity_type, entity_id, changes, prev_hash, hash)
    SELECT 1000000 + row_number() OVER (), gen_random_uuid(), now() - random() * interval '300 days', a.user_id, 'junior_agent', 'policy.updated', 'policy', p.id::text, '{}'::jsonb, '', ''
    FROM policies p JOIN agents a ON a.id = p.agent_id CROSS JOIN generate_series(1, 2) LIMIT 250000`.execute(kdb);
  await sql`INSERT INTO audit_events (seq, id, occurred_at, actor_id, actor_role, action, entity_type, entity_id, changes, prev_hash, hash)
    SELECT 2000000 + row_number() OVER (), gen_random_uuid(), now() - random() * interval '300 days', null, null, 'user.updated', 'user', u.id::text, '{}'::jsonb, '', ''
    FROM users u CROSS JOIN generate_series(1, 3) LIMIT 250000`.execute(kdb);
  console.log(`audit trail: 500,000 events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Districts under Maharashtra, each taking agents from the state itself (so they stay in its subtree). */
async function carveDistricts(kdb: Kysely<DB>): Promise<string[]> {
  const state = await kdb.selectFrom('regions').select(['id', 'path']).where('code', '=', 'MH').executeTakeFirstOrThrow();
  const paths: string[] = [];
  for (const size of DISTRICTS) {
    const code = `XD${size}`;
    const path = `${state.path}${code}/`;
    paths.push(path);
    if (await kdb.selectFrom('regions').select('id').where('code', '=', code).executeTakeFirst()) continue;
    const id = crypto.randomUUID();
    await sql`INSERT INTO regions (id, code, name, parent_id, path) VALUES (${id}, ${code}, ${`District of ${size}`}, ${state.id}, ${path})`.execute(kdb);
    await sql`UPDATE agents SET region_id = ${id} WHERE id IN (SELECT id FROM agents WHERE region_id = ${state.id} ORDER BY id LIMIT ${size})`.execute(kdb);
  }
  await sql`ANALYZE`.execute(kdb);
  return paths;
}

async function median(call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b)[CALLS >> 1]!;
}

async function row(kdb: Kysely<DB>, managerId: string, path: string): Promise<string> {
  const region = await kdb.selectFrom('regions').select('id').where('path', '=', path).executeTakeFirstOrThrow();
  const actor: Actor = { userId: managerId, sessionId: 'bench', role: 'regional_manager', providerId: null, regionId: region.id, regionPath: path, agentId: null, agentStatus: null, teamAgentIds: [] };
  const agents = await sql<{ n: number }>`SELECT count(*)::int AS n FROM agents a JOIN regions r ON r.id = a.region_id WHERE r.path LIKE ${path + '%'}`.execute(kdb);
  const users = await sql<{ n: number }>`SELECT count(*)::int AS n FROM users WHERE ${userScope(actor)}`.execute(kdb);
  const audit = (list: boolean) => new AuditService(kdb, {
    actorOf: async () => actor,
    shortListInScope: async (a: Actor, max: number) => (list ? shortUserList(kdb, a, max) : null),
    idsInScope: (a: Actor) => userIdsInScope(a),
  } as never);
  const customers = (field: 'created_at' | 'full_name', list: boolean) => async () => listCustomers(kdb, agentScope(actor, sql.ref('customers.agent_id')),
    list ? await shortAgentList(kdb, actor) : null, { filters: {}, sort: { field, direction: field === 'created_at' ? 'desc' : 'asc' }, cursor: null, limit: 20 });
  const pair = async (api: () => Promise<unknown>, walk: () => Promise<unknown>) => `${(await median(api)).toFixed(1)} / ${(await median(walk)).toFixed(1)}`;
  const cells = [
    await pair(() => listPolicies(kdb, actor, { filters: {}, direction: 'desc', after: null, limit: 20 }),
      () => kdb.selectFrom('policies').select(['id', 'created_at']).where(policyScope(actor)).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(21).execute()),
    await pair(customers('created_at', true), customers('created_at', false)),
    await pair(customers('full_name', true), customers('full_name', false)),
    await pair(() => searchUsers(kdb, actor, { field: 'created_at', direction: 'desc', limit: 20, after: null }),
      () => kdb.selectFrom('users').selectAll().where(userScope(actor)).where('status', '!=', 'deleted').orderBy('created_at', 'desc').orderBy('id', 'desc').limit(21).execute()),
    await pair(() => audit(true).list({ userId: managerId } as never, {}), () => audit(false).list({ userId: managerId } as never, {})),
  ];
  return `| ${path} | ${agents.rows[0]!.n} | ${users.rows[0]!.n} | ${cells.join(' | ')} |`;
}
