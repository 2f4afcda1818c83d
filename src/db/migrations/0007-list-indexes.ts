import { sql, type Kysely } from 'kysely';

/**
 * Indexes found missing by src/db/indexes.test.ts (EXPLAIN over seeded data):
 * unfiltered, newest-first lists of customers and agents (an admin's view)
 * had no index for their sort, so the planner sorted whole tables; and an
 * agent's (or a team's) newest policies need (agent_id, created_at) so a page
 * is a short index range per agent, not a walk through every policy in date order.
 */
const statements = [
  `CREATE INDEX customers_created_idx ON customers (created_at, id)`,
  `CREATE INDEX agents_created_idx ON agents (created_at, id)`,
  `CREATE INDEX policies_agent_created_idx ON policies (agent_id, created_at, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('DROP INDEX IF EXISTS customers_created_idx').execute(db);
  await sql.raw('DROP INDEX IF EXISTS agents_created_idx').execute(db);
  await sql.raw('DROP INDEX IF EXISTS policies_agent_created_idx').execute(db);
}
