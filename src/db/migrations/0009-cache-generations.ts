import { sql, type Kysely } from 'kysely';

/**
 * A counter per cached view that PostgreSQL itself advances, in the same
 * transaction, whenever a row that view is built from changes; an instance
 * may serve a cached answer only while the counter still reads what it read
 * before building it (src/shared/page-cache.ts). Triggers, not application
 * code, so no writer can forget it: services, maintenance jobs, the CLI and
 * an operator's psql alike.
 *
 * The row triggers are deferred to commit and bump once per transaction (a
 * transaction-local setting remembers it): the counter's row is locked for
 * the last moment of the transaction only, after every other lock it takes,
 * so two writers can queue on it but never deadlock over it, and a bulk write
 * costs one update, not one per row. (Every transaction here runs at READ
 * COMMITTED, where the second of two writers waits and then adds its own one;
 * at REPEATABLE READ or SERIALIZABLE it would fail to serialize instead.)
 *
 * 'policy_list' covers everything the policy list reads: policies, and what
 * the caller's scope resolves through (customers and a policyholder's phone
 * number, agents, agent_providers, regions).
 */
const WATCHED = [
  { table: 'policies', events: 'INSERT OR UPDATE OR DELETE', when: '' },
  { table: 'customers', events: 'INSERT OR UPDATE OR DELETE', when: '' },
  { table: 'agents', events: 'INSERT OR UPDATE OR DELETE', when: '' },
  { table: 'agent_providers', events: 'INSERT OR UPDATE OR DELETE', when: '' },
  { table: 'regions', events: 'INSERT OR UPDATE OR DELETE', when: '' },
  // Sign-ins update users on every login; only the phone number matters here.
  { table: 'users', events: 'UPDATE OF phone_number', when: 'WHEN (OLD.phone_number IS DISTINCT FROM NEW.phone_number)' },
  { table: 'users', events: 'DELETE', when: '' },
] as const;

const GENERATION = 'policy_list';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE cache_generations (
    name text PRIMARY KEY,
    generation bigint NOT NULL DEFAULT 0
  )`.execute(db);
  await sql`INSERT INTO cache_generations (name) VALUES (${GENERATION})`.execute(db);
  await sql`CREATE FUNCTION bump_cache_generation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('bima.bumped_' || TG_ARGV[0], true) IS DISTINCT FROM 'on' THEN
        UPDATE cache_generations SET generation = generation + 1 WHERE name = TG_ARGV[0];
        PERFORM set_config('bima.bumped_' || TG_ARGV[0], 'on', true);
      END IF;
      RETURN NULL;
    END $$`.execute(db);
  for (const [i, { table, events, when }] of WATCHED.entries()) {
    await sql.raw(`CREATE CONSTRAINT TRIGGER ${table}_bumps_${GENERATION}_${i} AFTER ${events} ON ${table}
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW ${when} EXECUTE FUNCTION bump_cache_generation('${GENERATION}')`).execute(db);
  }
  // TRUNCATE fires no row triggers.
  for (const table of new Set(WATCHED.map((w) => w.table))) {
    await sql.raw(`CREATE TRIGGER ${table}_truncate_bumps_${GENERATION} AFTER TRUNCATE ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_generation('${GENERATION}')`).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [i, { table }] of WATCHED.entries()) await sql.raw(`DROP TRIGGER ${table}_bumps_${GENERATION}_${i} ON ${table}`).execute(db);
  for (const table of new Set(WATCHED.map((w) => w.table))) await sql.raw(`DROP TRIGGER ${table}_truncate_bumps_${GENERATION} ON ${table}`).execute(db);
  await sql`DROP FUNCTION bump_cache_generation()`.execute(db);
  await sql`DROP TABLE cache_generations`.execute(db);
}
