import { sql, type Kysely } from 'kysely';

/**
 * The policy read (GET /policies/{id}) is cached on the same counter as the
 * list (migration 0009, still named 'policy_list' so that instances of the
 * previous release keep finding it during a rolling upgrade), and it also
 * answers the policy's status history. Every status change today writes the
 * policy row in the same transaction, which already counts; this trigger
 * makes the history count on its own, whoever writes it and however.
 * bump_cache_generation() counts once per transaction, so a transition that
 * writes both costs one bump, as before.
 */
const GENERATION = 'policy_list';
const TABLE = 'policy_status_history';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`CREATE CONSTRAINT TRIGGER ${TABLE}_bumps_${GENERATION} AFTER INSERT OR UPDATE OR DELETE ON ${TABLE}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_generation('${GENERATION}')`).execute(db);
  await sql.raw(`CREATE TRIGGER ${TABLE}_truncate_bumps_${GENERATION} AFTER TRUNCATE ON ${TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_generation('${GENERATION}')`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`DROP TRIGGER ${TABLE}_truncate_bumps_${GENERATION} ON ${TABLE}`).execute(db);
  await sql.raw(`DROP TRIGGER ${TABLE}_bumps_${GENERATION} ON ${TABLE}`).execute(db);
}
