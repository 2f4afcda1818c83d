import { sql, type Kysely } from 'kysely';

/**
 * A policyholder's policies follow its phone number only once it has proven
 * that phone (policyScope), so proving it changes what the cached policy list
 * and read answer: the same counter as migration 0009's phone-number trigger
 * counts the change of users.phone_verified_at too.
 */
const GENERATION = 'policy_list';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`CREATE CONSTRAINT TRIGGER users_verified_phone_bumps_${GENERATION} AFTER UPDATE OF phone_verified_at ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.phone_verified_at IS DISTINCT FROM NEW.phone_verified_at)
    EXECUTE FUNCTION bump_cache_generation('${GENERATION}')`).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(`DROP TRIGGER users_verified_phone_bumps_${GENERATION} ON users`).execute(db);
}
