import { sql, type Expression, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DB, OtpPurpose, UserRow } from '../../db/types.js';

type Db = Kysely<DB> | Transaction<DB>;

export function findUserByPhone(db: Db, phone: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('phone_number', '=', phone).executeTakeFirst();
}

export function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst();
}

export function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findAgentForUser(db: Db, userId: string) {
  return db.selectFrom('agents').select(['id', 'status', 'agent_code']).where('user_id', '=', userId).executeTakeFirst();
}

export function lockUserById(trx: Transaction<DB>, id: string): Promise<UserRow | undefined> {
  return trx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

// --- sign-in throttling -------------------------------------------------------

export type SignInKey = { phone: string } | { email: string } | { agentCode: string } | null;

export interface SignInLookup {
  user?: UserRow;
  throttle?: { failures: number; locked_until: Date | null };
  /** The user has signed in before, but never with this user agent (among its latest 50 sessions). */
  newDevice: boolean;
}

/**
 * Everything a password sign-in reads before hashing, in one round trip: the
 * user (if any), the identifier's failure count and lock (known user or not),
 * and whether this user agent is new to the user.
 */
export async function findSignIn(db: Db, key: SignInKey, identifier: string, userAgent: string | null): Promise<SignInLookup> {
  const user = !key ? db.selectFrom('users').selectAll().where(sql<boolean>`false`)
    : 'phone' in key ? db.selectFrom('users').selectAll().where('phone_number', '=', key.phone)
    : 'email' in key ? db.selectFrom('users').selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', key.email.toLowerCase()))
    : db.selectFrom('agents').innerJoin('users', 'users.id', 'agents.user_id').selectAll('users').where('agents.agent_code', '=', key.agentCode.toUpperCase());
  type Row = Partial<UserRow> & { throttle_failures: number | null; throttle_locked_until: Date | null; recent_sessions: number; same_agent: number };
  const { rows } = await sql<Row>`
    SELECT u.*, t.failures AS throttle_failures, t.locked_until AS throttle_locked_until,
           coalesce(d.recent, 0) AS recent_sessions, coalesce(d.same, 0) AS same_agent
    FROM (SELECT 1) AS one
    LEFT JOIN login_throttles t ON t.identifier = ${identifier}
    LEFT JOIN (${user.limit(1)}) AS u ON true
    LEFT JOIN LATERAL (${deviceHistory(sql.ref('u.id'), userAgent)}) d ON u.id IS NOT NULL`.execute(db);
  const { throttle_failures: failures, throttle_locked_until: lockedUntil, recent_sessions: recent, same_agent: same, ...userColumns } = rows[0]!;
  return {
    ...(userColumns.id ? { user: userColumns as UserRow } : {}),
    ...(failures !== null ? { throttle: { failures, locked_until: lockedUntil } } : {}),
    newDevice: isNewDeviceFor({ recent, same }),
  };
}

/**
 * "A new device", one rule for every way of signing in: the user has signed
 * in before (has sessions) and none of its latest 50 sessions carries this
 * user agent. deviceHistory() counts both; isNewDeviceFor() reads the counts.
 */
function deviceHistory(userId: Expression<string> | RawBuilder<string> | ReturnType<typeof sql.ref>, userAgent: string | null) {
  return sql<{ recent: number | string; same: number | string }>`
      SELECT count(*) AS recent, count(*) FILTER (WHERE s.user_agent IS NOT DISTINCT FROM ${userAgent}::text) AS same
      FROM (SELECT user_agent FROM user_sessions WHERE user_id = ${userId} ORDER BY created_at DESC LIMIT 50) s`;
}

const isNewDeviceFor = (counts: { recent: number | string; same: number | string }) => Number(counts.recent) > 0 && Number(counts.same) === 0;

/** The same rule as a password sign-in's lookup, for the sign-ins that have no such lookup (OTP). */
export async function isNewDevice(db: Db, userId: string, userAgent: string | null): Promise<boolean> {
  const { rows } = await deviceHistory(sql`${userId}::uuid`, userAgent).execute(db);
  return isNewDeviceFor(rows[0]!);
}

/**
 * Counts one more failure atomically and starts the lock when the count
 * reaches the limit. A lock that has run out starts a fresh count.
 */
export async function addLoginFailure(db: Db, identifier: string, maxFailures: number, lockUntil: Date, now: Date) {
  const expired = sql`(t.locked_until IS NOT NULL AND t.locked_until <= ${now})`;
  const nextCount = sql`(CASE WHEN ${expired} THEN 1 ELSE t.failures + 1 END)`;
  const result = await sql<{ failures: number; locked_until: Date | null }>`
    INSERT INTO login_throttles AS t (identifier, failures, locked_until, updated_at)
    VALUES (${identifier}, 1, ${maxFailures <= 1 ? lockUntil : null}, ${now})
    ON CONFLICT (identifier) DO UPDATE SET
      failures = ${nextCount},
      locked_until = CASE
        WHEN t.locked_until > ${now} THEN t.locked_until
        WHEN ${nextCount} >= ${maxFailures} THEN ${lockUntil}::timestamptz
        ELSE NULL END,
      updated_at = ${now}
    RETURNING failures, locked_until`.execute(db);
  return result.rows[0]!;
}

export async function clearLoginFailures(db: Db, identifier: string): Promise<void> {
  await db.deleteFrom('login_throttles').where('identifier', '=', identifier).execute();
}

// --- sessions and refresh tokens ---------------------------------------------

/**
 * A new session, its first refresh token, the user's sign-in stamp and the
 * audit event, in one statement: atomic on its own, so no BEGIN and COMMIT
 * round trips. Returns the updated user.
 */
export async function startSessionRow(
  db: Db,
  session: { id: string; user_id: string; expires_at: Date; ip_address: string | null; user_agent: string | null; created_at: Date },
  refreshTokenHash: string,
  userChanges: Partial<Pick<UserRow, 'last_login_at' | 'failed_login_attempts' | 'account_locked_until' | 'password_hash'>>,
  audit: RawBuilder<unknown>,
): Promise<UserRow> {
  const { rows } = await sql<UserRow>`
    WITH ${audit},
    new_session AS (${db.insertInto('user_sessions').values({ ...session, last_used_at: session.created_at })}),
    new_token AS (${db.insertInto('refresh_tokens').values({ token_hash: refreshTokenHash, session_id: session.id, created_at: session.created_at, expires_at: session.expires_at })}),
    signed_in AS (${db.updateTable('users').set(userChanges).where('id', '=', session.user_id).returningAll()})
    SELECT * FROM signed_in`.execute(db);
  if (!rows[0]) throw new Error(`user ${session.user_id} vanished while signing in`);
  return rows[0];
}

/**
 * Spends a refresh token and, if the session's user is still active, issues
 * its successor and touches the session: one statement, atomic on its own.
 * 'reused' when the token was spent already (by an earlier or a racing
 * request: the UPDATE only matches an unspent token); 'disabled' when the user
 * may no longer refresh (the token is spent all the same).
 */
export async function rotateRefreshToken(db: Db, r: {
  spent: string; next: string; sessionId: string; userId: string; expiresAt: Date; now: Date; ip: string | null; userAgent: string | null;
}): Promise<UserRow | 'reused' | 'disabled'> {
  type Row = Partial<UserRow> & { spent: number };
  const { rows } = await sql<Row>`
    WITH spent AS (
      UPDATE refresh_tokens SET used_at = ${r.now} WHERE token_hash = ${r.spent} AND used_at IS NULL RETURNING session_id
    ),
    holder AS (SELECT users.* FROM users WHERE users.id = ${r.userId} AND users.status = 'active' AND EXISTS (SELECT 1 FROM spent)),
    successor AS (
      INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)
      SELECT ${r.next}, ${r.sessionId}::uuid, ${r.now}::timestamptz, ${r.expiresAt}::timestamptz FROM holder
    ),
    touched AS (
      UPDATE user_sessions SET last_used_at = ${r.now}, ip_address = ${r.ip}, user_agent = ${r.userAgent}
      WHERE id = ${r.sessionId} AND EXISTS (SELECT 1 FROM holder)
    )
    SELECT (SELECT count(*) FROM spent) AS spent, holder.* FROM (SELECT 1) AS one LEFT JOIN holder ON true`.execute(db);
  const { spent, ...user } = rows[0]!;
  if (Number(spent) === 0) return 'reused';
  return user.id ? (user as UserRow) : 'disabled';
}

export function findRefreshToken(db: Db, tokenHash: string) {
  return db
    .selectFrom('refresh_tokens')
    .innerJoin('user_sessions', 'user_sessions.id', 'refresh_tokens.session_id')
    .select([
      'refresh_tokens.token_hash',
      'refresh_tokens.used_at',
      'refresh_tokens.expires_at',
      'user_sessions.id as session_id',
      'user_sessions.user_id',
      'user_sessions.revoked_at',
      'user_sessions.expires_at as session_expires_at',
    ])
    .where('refresh_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export function listActiveSessions(db: Db, userId: string, now: Date) {
  return db
    .selectFrom('user_sessions')
    .select(['id', 'created_at', 'last_used_at', 'ip_address', 'user_agent'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .limit(100)
    .execute();
}

/** Revokes the chosen live sessions of one user; returns the ids it revoked. */
export async function revokeSessions(
  trx: Db,
  userId: string,
  reason: string,
  now: Date,
  filter: { only?: string; except?: string } = {},
): Promise<string[]> {
  let query = trx.updateTable('user_sessions').set({ revoked_at: now, revoked_reason: reason }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (filter.only) query = query.where('id', '=', filter.only);
  if (filter.except) query = query.where('id', '!=', filter.except);
  const rows = await query.returning('id').execute();
  return rows.map((r) => r.id);
}

// --- one-time codes -------------------------------------------------------------

/**
 * Only the latest code for a phone and purpose is ever accepted. The codes it
 * replaces are closed in the same statement (expired as of the new one's
 * creation), so two codes issued one after the other within one millisecond
 * (possible with OTP_RESEND_S=0) still have a clear latest: the one left
 * open. Two issued at the same moment by concurrent requests do not see each
 * other; with the resend cooldown on (the default), the second is refused.
 */
export async function insertOtp(
  db: Db,
  row: { id: string; phone_number: string; purpose: OtpPurpose; code_hmac: string; expires_at: Date; created_at: Date },
): Promise<void> {
  await db
    .with('superseded', (qb) => qb.updateTable('otp_codes').set({ expires_at: row.created_at })
      .where('phone_number', '=', row.phone_number).where('purpose', '=', row.purpose)
      .where('consumed_at', 'is', null).where('expires_at', '>', row.created_at))
    .insertInto('otp_codes').values(row).execute();
}

export function findLatestOtp(db: Db, phone: string, purpose: OtpPurpose) {
  return db
    .selectFrom('otp_codes')
    .selectAll()
    .where('phone_number', '=', phone)
    .where('purpose', '=', purpose)
    .orderBy('created_at', 'desc')
    .orderBy('expires_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function countOtpAttempt(db: Db, id: string): Promise<void> {
  await db.updateTable('otp_codes').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('id', '=', id).execute();
}

/** Single use under races: only the first consumer gets true. */
export async function consumeOtp(db: Db, id: string, maxAttempts: number, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('otp_codes')
    .set({ consumed_at: now })
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .where('attempts', '<', maxAttempts)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

// --- password reset tokens --------------------------------------------------------

export async function insertResetToken(db: Db, row: { token_hash: string; user_id: string; expires_at: Date; created_at: Date }): Promise<void> {
  await db.insertInto('password_reset_tokens').values(row).execute();
}

export async function spendResetToken(trx: Db, tokenHash: string, now: Date): Promise<string | undefined> {
  const row = await trx
    .updateTable('password_reset_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('user_id')
    .executeTakeFirst();
  return row?.user_id;
}
