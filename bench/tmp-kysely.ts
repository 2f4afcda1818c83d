import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { DB } from '../src/db/types.js';
import { policyScope } from '../src/modules/policies/policies.repository.js';
const db = new Kysely<DB>({ dialect: { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (d) => new PostgresIntrospector(d), createQueryCompiler: () => new PostgresQueryCompiler() } });
const actor = { role: 'junior_agent', userId: '0190f1c6-0000-7000-8000-000000000001', agentId: '0190f1c6-0000-7000-8000-000000000002', teamAgentIds: [] } as never;
const id = '0190f1c6-0000-7000-8000-000000000003';
const current = () => db.selectFrom('policies').selectAll('policies')
  .select((eb) => jsonArrayFrom(eb.selectFrom('policy_status_history as h').select(['h.id', 'h.policy_id', 'h.from_status', 'h.to_status', 'h.reason', 'h.actor_id', 'h.created_at'])
    .whereRef('h.policy_id', '=', 'policies.id').orderBy('h.created_at').orderBy('h.id')).as('status_history'))
  .where('policies.id', '=', id).where(policyScope(actor)).compile();
const raw = () => sql`SELECT policies.*, (SELECT coalesce(json_agg(agg), '[]') FROM (SELECT h.id, h.policy_id, h.from_status, h.to_status, h.reason, h.actor_id, h.created_at FROM policy_status_history AS h WHERE h.policy_id = policies.id ORDER BY h.created_at, h.id) AS agg) AS status_history FROM policies WHERE policies.id = ${id} AND ${policyScope(actor)}`.compile(db);
const list = () => db.selectFrom('policies').selectAll().where(policyScope(actor)).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(21).compile();
for (const [name, f] of [['current', current], ['raw', raw], ['list', list]] as const) {
  for (let i = 0; i < 20000; i++) f();
  const t = performance.now(); for (let i = 0; i < 50000; i++) f();
  console.log(name, ((performance.now() - t) / 50000 * 1000).toFixed(1), 'µs');
}
console.log(current().sql); console.log(raw().sql);
