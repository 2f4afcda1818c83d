import { sql, type Kysely } from 'kysely';

/**
 * Customers listed by name (`sort=full_name`) had no index for the sort:
 * an admin's or a state's page sorted every customer in scope (80,000 in
 * src/db/indexes.test.ts, 70 ms a page on the bench's 50,000). With
 * (full_name, id) the page is the next 21 index entries; with
 * (agent_id, full_name, id) each agent's page of a merged scope
 * (mergedPageKeys) is one index range instead of its whole book sorted.
 */
const statements = [
  `CREATE INDEX customers_name_idx ON customers (full_name, id)`,
  `CREATE INDEX customers_agent_name_idx ON customers (agent_id, full_name, id)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('DROP INDEX IF EXISTS customers_name_idx').execute(db);
  await sql.raw('DROP INDEX IF EXISTS customers_agent_name_idx').execute(db);
}
