import { sql, type Kysely } from 'kysely';

/**
 * A counter per cached view that PostgreSQL itself advances, in the same
 * transaction, whenever a row that view is built from changes; an instance
 * may serve a cached answer only while the counter still reads what it read
 * before building it (src/shared/page-cache.ts). Triggers, not application
 * code, so no writer can forget it: services, maintenance jobs, the CLI and
 * an operator's psql alike. (Only what bypasses triggers escapes it:
 * session_replication_role = replica, DISABLE TRIGGER, a restore with
 * --disable-triggers; docs/operations.md says what to run after those.)
 *
 * - The row triggers are deferred to commit and count once per transaction
 *   (a transaction-local setting holds the id of the transaction that
 *   counted, so no session-wide setting can switch counting off): a bulk
 *   write costs one update, and a counter row is locked for the last moment
 *   of a transaction only, after every other lock it takes. A TRUNCATE's
 *   trigger cannot be deferred and locks one mid-transaction; TRUNCATE is
 *   rare and locks its whole table anyway.
 * - Each view's counter is spread over SLOTS rows, a session bumping the one
 *   its backend id picks, and read as their sum: commits from different
 *   sessions seldom queue behind each other's counter row. With a single row
 *   every commit that touched a watched table waited for the one before it to
 *   flush. pgbench, 16 sessions each updating its own regions row for 5 s:
 *   2,331-2,550 commits/s on one row, 7,492-8,144 on 16, 8,424 on 64, and
 *   11,426 without the triggers.
 * - Each bump also draws a random token; a read gives the sum and the
 *   tokens' XOR. After a failover that lost commits, or a restore, the sum
 *   can climb back to a value instances have seen, but not with the same
 *   tokens.
 * - Every transaction here runs at READ COMMITTED, where the second of two
 *   writers on one counter row waits and then adds its own one. At REPEATABLE
 *   READ or SERIALIZABLE, a writer that meets a counter row changed since its
 *   snapshot fails to serialize at commit (and should be retried).
 *
 * 'policy_list' covers everything the policy list reads: policies, and what
 * the caller's scope resolves through (customers and a policyholder's phone
 * number, agents, regions), plus agent_providers, which agentScope reads for
 * a provider admin (the policy scope uses the policy's provider today).
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
const SLOTS = 16;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE cache_generations (
    name text NOT NULL,
    slot smallint NOT NULL,
    generation bigint NOT NULL DEFAULT 0,
    token bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (name, slot)
  )`.execute(db);
  await sql`INSERT INTO cache_generations (name, slot) SELECT ${GENERATION}, s FROM generate_series(0, ${SLOTS - 1}::int) AS s`.execute(db);
  await sql.raw(`CREATE FUNCTION bump_cache_generation() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      guard constant text := 'bima.counted_' || TG_ARGV[0];
      xact constant text := pg_current_xact_id()::text;
    BEGIN
      IF current_setting(guard, true) IS DISTINCT FROM xact THEN
        UPDATE cache_generations SET generation = generation + 1, token = floor(random() * 9e18)::bigint
          WHERE name = TG_ARGV[0] AND slot = pg_backend_pid() % ${SLOTS};
        PERFORM set_config(guard, xact, true);
      END IF;
      RETURN NULL;
    END $$`).execute(db);
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
