import type { Kysely } from 'kysely';
import type { DB } from './types.js';

export interface PurgeReport {
  otp_codes: number;
  refresh_tokens: number;
  password_reset_tokens: number;
  idempotency_keys: number;
  login_throttles: number;
}

/**
 * Deletes rows that can no longer matter: spent or expired one-time codes and
 * tokens past a day's grace (kept that long for investigation), idempotency
 * keys older than a day (clients retry within minutes), and sign-in throttles
 * whose lock ran out long ago. Sessions, audit and security events are kept.
 * Safe to run on every instance at once: each delete is idempotent.
 */
export async function purgeExpired(db: Kysely<DB>, now: Date): Promise<PurgeReport> {
  const dayAgo = new Date(now.getTime() - 86_400_000);
  const count = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);
  return {
    otp_codes: count(await db.deleteFrom('otp_codes').where('expires_at', '<', dayAgo).executeTakeFirst()),
    refresh_tokens: count(await db.deleteFrom('refresh_tokens').where('expires_at', '<', dayAgo).executeTakeFirst()),
    password_reset_tokens: count(await db.deleteFrom('password_reset_tokens').where('expires_at', '<', dayAgo).executeTakeFirst()),
    idempotency_keys: count(await db.deleteFrom('idempotency_keys').where('created_at', '<', dayAgo).executeTakeFirst()),
    login_throttles: count(await db.deleteFrom('login_throttles').where('updated_at', '<', dayAgo)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)])).executeTakeFirst()),
  };
}

/** Runs purgeExpired every interval, off the request path; returns a stop function. */
export function schedulePurge(db: Kysely<DB>, intervalMs: number, onResult: (report: PurgeReport | Error) => void): () => void {
  const timer = setInterval(() => {
    purgeExpired(db, new Date()).then(onResult, (error: unknown) => onResult(error instanceof Error ? error : new Error(String(error))));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
