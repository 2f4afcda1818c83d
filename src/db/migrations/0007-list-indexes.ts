import { sql, type Kysely } from 'kysely';

/**
 * Indexes found missing by src/db/indexes.test.ts (EXPLAIN over seeded data):
 * unfiltered, newest-first lists of customers and agents (an admin's view)
 * had no index for their sort, so the planner sorted whole tables.
 */
const statements = [
  `CREATE INDEX customers_created_idx ON customers (created_at, id)`,
  `CREATE INDEX agents_created_idx ON agents (created_at, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('DROP INDEX IF EXISTS customers_created_idx').execute(db);
  await sql.raw('DROP INDEX IF EXISTS agents_created_idx').execute(db);
}
