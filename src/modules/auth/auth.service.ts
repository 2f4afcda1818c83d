import { setTimeout as delay } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../config/config.js';
import { uniqueViolation } from '../../db/errors.js';
import type { DB, OtpPurpose, Role, UserRow } from '../../db/types.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { newId, newSecret } from '../../shared/ids.js';
import { normalizePhone } from '../../shared/phone.js';
import { appendAuditEvent, auditAppendCtes, recordAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import { toUserResponse, type User } from '../users/users.schemas.js';
import type { SigningKeys } from './auth.keys.js';
import type { OtpService, OtpTicket } from './auth.otp.js';
import { checkPasswordStrength, type HashTicket, type PasswordHasher } from './auth.passwords.js';
import * as repo from './auth.repository.js';
import type { Callers } from '../rbac/rbac.callers.js';
import type { RevocationStore } from './auth.revocation.js';
import type { SecurityService } from '../security/security.service.js';
import { signAccessToken, type TokenSettings } from './auth.tokens.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_expires_in: number;
  session_id: string;
  user: User;
}

export interface AuthServiceDeps {
  db: Kysely<DB>;
  clock: Clock;
  config: Config;
  hasher: PasswordHasher;
  keys: SigningKeys;
  otp: OtpService;
  revocations: RevocationStore;
  /** Told when a sign-in changes the user row (last_login_at, a verified phone). */
  callers: Callers;
  onAuthEvent?: (event: string, method: string, outcome: string) => void;
  security?: SecurityService;
  /** Runs inside the verification transaction, e.g. to link customer records to the new login. */
  onPhoneVerified?: (trx: Transaction<DB>, user: UserRow) => Promise<void>;
}

export interface NewAccountInput { phone_number: string; full_name: string; password: string; email?: string }
export interface PreparedAccount { phone: string; email: string | null; fullName: string; passwordHash: string }

export type LoginInput =
  | { method: 'password'; phone_number?: string; email?: string; password: string }
  | { method: 'agent_code'; agent_code: string; password: string }
  | { method: 'otp'; phone_number: string };

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** The unique violations of users that the pre-checks (assertIdentityFree) can lose a race to, as their 409s. */
export function identityConflict(error: unknown): AppError | null {
  const constraint = uniqueViolation(error);
  if (constraint === null) return null;
  const where = `${constraint} ${(error as { message?: string }).message ?? ''}`;
  if (where.includes('users_email_key')) return new AppError('EMAIL_TAKEN', 409, 'An account with this email exists.');
  return new AppError('PHONE_TAKEN', 409, 'An account with this phone number exists.');
}

export function requirePhone(input: string, path = '/phone_number'): string {
  const phone = normalizePhone(input);
  if (!phone) throw new AppError('VALIDATION_FAILED', 422, 'The phone number is not valid.', { errors: [{ path, message: 'is not a valid phone number' }] });
  return phone;
}

/** What a password sign-in is counted against (lockout) and how its user is found; an unparseable phone finds nobody but still costs a hash. */
function loginKey(input: Exclude<LoginInput, { method: 'otp' }>): { identifier: string; key: repo.SignInKey } {
  if (input.method === 'agent_code') {
    const code = input.agent_code.trim().toUpperCase();
    return { identifier: `agent:${code}`, key: { agentCode: code } };
  }
  if (input.email) {
    const email = input.email.trim().toLowerCase();
    return { identifier: `email:${email}`, key: { email } };
  }
  const phone = normalizePhone(input.phone_number ?? '');
  if (!phone) return { identifier: `phone:${(input.phone_number ?? '').slice(0, 32)}`, key: null };
  return { identifier: `phone:${phone}`, key: { phone } };
}

/** Sign-up, sign-in, tokens and sessions. */
export class AuthService {
  readonly tokenSettings: TokenSettings;

  constructor(private readonly deps: AuthServiceDeps) {
    this.tokenSettings = { issuer: deps.config.JWT_ISSUER, audience: deps.config.JWT_AUDIENCE, accessTtlS: deps.config.ACCESS_TOKEN_TTL_S };
  }

  private get db() {
    return this.deps.db;
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  async register(input: NewAccountInput, ctx: AuditContext) {
    const account = await this.prepareNewAccount(input);
    const user = await this.db.transaction().execute((trx) => this.insertPendingUser(trx, account, 'policyholder', ctx));
    const otp = await this.deps.otp.issue(account.phone, 'register', true, ctx.ip);
    return { user: toUserResponse(user), otp };
  }

  /** Normalises, checks and hashes a newcomer's credentials; outside any transaction, since hashing is slow. */
  async prepareNewAccount(input: NewAccountInput): Promise<PreparedAccount> {
    const phone = requirePhone(input.phone_number);
    const email = input.email?.trim().toLowerCase() || null;
    await checkPasswordStrength(input.password, [phone, input.full_name, email ?? '']);
    return { phone, email, fullName: input.full_name.trim(), passwordHash: await this.deps.hasher.hash(input.password) };
  }

  /**
   * Self-registration (policyholders, agents): a pending_verification user that
   * a 'register' OTP activates. Two registrations of one phone at once both
   * pass assertIdentityFree; the unique index stops the second, a 409 as well.
   */
  async insertPendingUser(trx: Transaction<DB>, account: PreparedAccount, role: Role, ctx: AuditContext): Promise<UserRow> {
    await this.assertIdentityFree(trx, account.phone, account.email);
    const now = this.now();
    const row = await trx
      .insertInto('users')
      .values({ id: newId(now.getTime()), phone_number: account.phone, email: account.email, full_name: account.fullName, password_hash: account.passwordHash,
        role, status: 'pending_verification', password_changed_at: now, created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => { throw identityConflict(error) ?? error; });
    await appendAuditEvent(trx, { ...ctx, actorId: row.id }, { action: 'user.registered', entityType: 'user', entityId: row.id, changes: { role: row.role } }, now);
    return row;
  }

  /** Phone and email are unique; checked here for a clear 409, and by unique indexes for races. */
  async assertIdentityFree(db: Kysely<DB> | Transaction<DB>, phone: string, email: string | null, exceptUserId?: string): Promise<void> {
    const byPhone = await repo.findUserByPhone(db, phone);
    if (byPhone && byPhone.id !== exceptUserId) throw new AppError('PHONE_TAKEN', 409, 'An account with this phone number exists.');
    if (email) {
      const byEmail = await repo.findUserByEmail(db, email);
      if (byEmail && byEmail.id !== exceptUserId) throw new AppError('EMAIL_TAKEN', 409, 'An account with this email exists.');
    }
  }

  async login(input: LoginInput, ctx: AuditContext): Promise<TokenPair | { otp: OtpTicket }> {
    if (input.method === 'otp') {
      return { otp: await this.requestOtp(input.phone_number, 'login', ctx.ip) };
    }
    const ticket = await this.admit();
    try {
      return await this.passwordLogin(input, ctx, ticket);
    } finally {
      ticket.release();
    }
  }

  /**
   * A place in the hashing line, or a 503 after HASH_SHED_DELAY_MS: answered
   * at once, clients that retry at once would turn refusals into a busy loop
   * that takes the very CPU the admitted sign-ins need. The wait holds only a socket.
   */
  private async admit(): Promise<HashTicket> {
    try {
      return this.deps.hasher.admit();
    } catch (error) {
      if (this.deps.config.HASH_SHED_DELAY_MS > 0) await delay(this.deps.config.HASH_SHED_DELAY_MS);
      throw error;
    }
  }

  private async passwordLogin(input: Exclude<LoginInput, { method: 'otp' }>, ctx: AuditContext, ticket: HashTicket): Promise<TokenPair> {
    await this.deps.security?.assertAddressAllowed(ctx.ip);
    const { identifier, key } = loginKey(input);
    const { user, throttle, newDevice } = await repo.findSignIn(this.db, key, identifier, ctx.userAgent);
    const now = this.now();
    if (throttle?.locked_until && throttle.locked_until > now) {
      this.deps.onAuthEvent?.('login', input.method, 'locked');
      // Guessing against a locked account is still guessing: it counts toward the address's stuffing score.
      await this.deps.security?.onLoginFailure(ctx.ip, user?.id ?? null);
      throw this.lockedError(throttle.locked_until, now);
    }
    const usable = user && user.status !== 'deleted' ? user : undefined;
    const ok = await this.deps.hasher.verify(usable?.password_hash ?? null, input.password, ticket);
    if (!ok || !usable) return this.failLogin(identifier, input.method, usable, ctx);
    this.assertCanSignIn(usable);
    if (throttle) await repo.clearLoginFailures(this.db, identifier);
    const rehash = this.deps.hasher.needsRehash(usable.password_hash!) ? await this.deps.hasher.hash(input.password, ticket) : null;
    const pair = await this.startSession(usable, ctx, 'auth.login', { method: input.method }, rehash, newDevice);
    this.deps.onAuthEvent?.('login', input.method, 'success');
    return pair;
  }

  private async failLogin(identifier: string, method: string, user: UserRow | undefined, ctx: AuditContext): Promise<never> {
    const now = this.now();
    const { config } = this.deps;
    const lockUntil = new Date(now.getTime() + config.LOGIN_LOCK_S * 1000);
    const throttle = await repo.addLoginFailure(this.db, identifier, config.LOGIN_MAX_FAILURES, lockUntil, now);
    const locked = throttle.locked_until !== null && throttle.locked_until > now;
    await this.db.transaction().execute(async (trx) => {
      if (user) {
        await trx.updateTable('users').set({ failed_login_attempts: throttle.failures, account_locked_until: throttle.locked_until }).where('id', '=', user.id).execute();
      }
      const entry = { entityType: 'user', entityId: user?.id ?? null, changes: { method, identifier_hash: sha256(identifier).slice(0, 16), failures: throttle.failures } };
      await appendAuditEvent(trx, ctx, { ...entry, action: 'auth.login_failed' }, now);
      if (locked && throttle.failures === config.LOGIN_MAX_FAILURES) await appendAuditEvent(trx, ctx, { ...entry, action: 'auth.locked' }, now);
    });
    this.deps.onAuthEvent?.('login', method, 'failure');
    await this.deps.security?.onLoginFailure(ctx.ip, user?.id ?? null);
    throw new AppError('INVALID_CREDENTIALS', 401, 'The sign-in details are not correct.');
  }

  private lockedError(until: Date, now: Date): AppError {
    const retryAfterS = Math.ceil((until.getTime() - now.getTime()) / 1000);
    return new AppError('ACCOUNT_LOCKED', 423, 'Too many failed sign-ins; this account is locked for a while.', { retryAfterS });
  }

  private assertCanSignIn(user: UserRow): void {
    if (user.status === 'pending_verification') throw new AppError('PHONE_NOT_VERIFIED', 403, 'Verify your phone number with the code we sent first.');
    if (user.status !== 'active') throw new AppError('ACCOUNT_DISABLED', 403, 'This account is not active.');
  }

  /** Always the same answer, whether or not the phone belongs to an eligible account. */
  async requestOtp(phoneInput: string, purpose: OtpPurpose, ip: string | null = null): Promise<OtpTicket> {
    const phone = requirePhone(phoneInput);
    const user = await repo.findUserByPhone(this.db, phone);
    const eligible =
      purpose === 'register' ? user?.status === 'pending_verification'
      : purpose === 'login' ? user?.status === 'active'
      : user !== undefined && user.status !== 'deleted';
    const ticket = await this.deps.otp.issue(phone, purpose, eligible, ip);
    this.deps.onAuthEvent?.('otp_sent', purpose, eligible ? 'sent' : 'suppressed');
    return ticket;
  }

  async verifyOtp(input: { phone_number: string; code: string; purpose: OtpPurpose }, ctx: AuditContext): Promise<TokenPair | { reset_token: string }> {
    const phone = requirePhone(input.phone_number);
    try {
      await this.deps.otp.verify(phone, input.purpose, input.code);
    } catch (error) {
      this.deps.onAuthEvent?.('otp_verify', input.purpose, 'failure');
      await recordAuditEvent(this.db, ctx, { action: 'auth.otp_failed', entityType: 'phone', entityId: sha256(phone).slice(0, 16), changes: { purpose: input.purpose } }, this.now());
      throw error;
    }
    this.deps.onAuthEvent?.('otp_verify', input.purpose, 'success');
    const found = await repo.findUserByPhone(this.db, phone);
    if (!found || found.status === 'deleted') throw new AppError('INVALID_OTP', 401, 'The code is wrong or has expired; request a new one.');
    if (input.purpose === 'register') return this.completeRegistration(found, ctx);
    const user = found.phone_verified_at === null && found.status === 'active' ? await this.provePhone(found, ctx) : found;
    if (input.purpose === 'reset_password') return { reset_token: await this.createResetToken(user, ctx) };
    this.assertCanSignIn(user);
    return this.startSession(user, ctx, 'auth.login', { method: 'otp' });
  }

  /**
   * A code just proved the phone of an account that had never proved it: one
   * an administrator created (POST /users), active at once. The phone is
   * what ties a policyholder to its policies (policyScope and the customer
   * links follow verified phones only), and a policyholder's password chosen
   * before the phone was proven may be the administrator's, who could
   * otherwise sign in and read the real owner's policies from now on: it is
   * dropped, with every session it opened. The owner signs in by code or
   * sets a password of its own through the reset flow.
   */
  private async provePhone(user: UserRow, ctx: AuditContext): Promise<UserRow> {
    const now = this.now();
    const actorCtx = { ...ctx, actorId: user.id };
    return this.db.transaction().execute(async (trx) => {
      const locked = await repo.lockUserById(trx, user.id);
      if (!locked || locked.phone_verified_at !== null) return locked ?? user;
      const dropPassword = locked.role === 'policyholder' && locked.password_hash !== null;
      const row = await trx.updateTable('users')
        .set({ phone_verified_at: now, updated_at: now, version: locked.version + 1, ...(dropPassword ? { password_hash: null, password_changed_at: now } : {}) })
        .where('id', '=', user.id).returningAll().executeTakeFirstOrThrow();
      await appendAuditEvent(trx, actorCtx, { action: 'auth.phone_verified', entityType: 'user', entityId: user.id, changes: { via: 'otp', password_dropped: dropPassword } }, now);
      if (dropPassword) await this.endSessions(user.id, 'phone_proven', actorCtx, {}, 'auth.session_ended', trx);
      await this.deps.onPhoneVerified?.(trx, row);
      return row;
    });
  }

  private async completeRegistration(user: UserRow, ctx: AuditContext): Promise<TokenPair> {
    const now = this.now();
    const verified = await this.db.transaction().execute(async (trx) => {
      const locked = await repo.lockUserById(trx, user.id);
      if (!locked) throw new AppError('INVALID_OTP', 401, 'The code is wrong or has expired; request a new one.');
      if (locked.status !== 'pending_verification') return locked;
      const row = await trx.updateTable('users').set({ status: 'active', phone_verified_at: now, updated_at: now, version: locked.version + 1 })
        .where('id', '=', user.id).returningAll().executeTakeFirstOrThrow();
      await appendAuditEvent(trx, { ...ctx, actorId: user.id }, { action: 'auth.phone_verified', entityType: 'user', entityId: user.id, changes: { status: ['pending_verification', 'active'] } }, now);
      await this.deps.onPhoneVerified?.(trx, row);
      return row;
    });
    this.assertCanSignIn(verified);
    return this.startSession(verified, ctx, 'auth.login', { method: 'otp_register' });
  }

  private async createResetToken(user: UserRow, ctx: AuditContext): Promise<string> {
    const token = newSecret();
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      await repo.insertResetToken(trx, { token_hash: sha256(token), user_id: user.id, created_at: now, expires_at: new Date(now.getTime() + 15 * 60_000) });
      await appendAuditEvent(trx, { ...ctx, actorId: user.id }, { action: 'auth.reset_requested', entityType: 'user', entityId: user.id }, now);
    });
    return token;
  }

  /**
   * Creates a session with its first refresh token, records the sign-in, and
   * signs the access token. `newDevice` is known already on a password sign-in
   * (read with the user); otherwise it is looked up here.
   */
  async startSession(user: UserRow, ctx: AuditContext, action: string, changes: Record<string, unknown>, rehash: string | null = null, newDevice?: boolean): Promise<TokenPair> {
    const now = this.now();
    const sessionId = newId(now.getTime());
    const refreshToken = newSecret();
    const expiresAt = new Date(now.getTime() + this.deps.config.REFRESH_TOKEN_TTL_S * 1000);
    if (newDevice ?? (await this.isNewDevice(user.id, ctx))) await this.deps.security?.onNewDevice(user.id, ctx.ip, ctx.userAgent);
    const updated = await repo.startSessionRow(this.db,
      { id: sessionId, user_id: user.id, created_at: now, expires_at: expiresAt, ip_address: ctx.ip, user_agent: ctx.userAgent },
      sha256(refreshToken), { last_login_at: now, failed_login_attempts: 0, account_locked_until: null, ...(rehash ? { password_hash: rehash } : {}) },
      auditAppendCtes({ ...ctx, actorId: user.id, actorRole: user.role }, { action, entityType: 'session', entityId: sessionId, changes }, now));
    await this.deps.callers.changed([user.id], { wait: false });
    return this.issuePair(updated, sessionId, refreshToken, expiresAt, now);
  }

  /** A sign-in from a user agent this user has not used lately (and not the first sign-in ever): repo.isNewDevice. */
  private async isNewDevice(userId: string, ctx: AuditContext): Promise<boolean> {
    return this.deps.security ? repo.isNewDevice(this.db, userId, ctx.userAgent) : false;
  }

  private async issuePair(user: UserRow, sessionId: string, refreshToken: string, expiresAt: Date, now: Date): Promise<TokenPair> {
    const { token } = await signAccessToken(this.deps.keys, this.tokenSettings, { userId: user.id, sessionId, role: user.role, phoneNumber: user.phone_number }, now);
    return {
      access_token: token,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: this.tokenSettings.accessTtlS,
      refresh_expires_in: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
      session_id: sessionId,
      user: toUserResponse(user),
    };
  }

  /** Rotates the refresh token. A spent token presented again is theft: the whole session ends. */
  async refresh(refreshToken: string, ctx: AuditContext): Promise<TokenPair> {
    const now = this.now();
    const tokenHash = sha256(refreshToken);
    const found = await repo.findRefreshToken(this.db, tokenHash);
    if (!found) throw new AppError('INVALID_TOKEN', 401, 'The refresh token is not valid.');
    if (found.revoked_at || found.session_expires_at <= now || found.expires_at <= now) {
      throw new AppError('SESSION_REVOKED', 401, 'This session has ended; sign in again.');
    }
    const next = newSecret();
    const outcome = found.used_at ? 'reused' as const : await repo.rotateRefreshToken(this.db, {
      spent: tokenHash, next: sha256(next), sessionId: found.session_id, userId: found.user_id, expiresAt: found.session_expires_at, now, ip: ctx.ip, userAgent: ctx.userAgent,
    });
    if (outcome === 'reused') return this.handleReuse(found.user_id, found.session_id, ctx);
    if (outcome === 'disabled') throw new AppError('SESSION_REVOKED', 401, 'This session has ended; sign in again.');
    this.deps.onAuthEvent?.('refresh', 'refresh_token', 'success');
    return this.issuePair(outcome, found.session_id, next, found.session_expires_at, now);
  }

  private async handleReuse(userId: string, sessionId: string, ctx: AuditContext): Promise<never> {
    await this.endSessions(userId, 'refresh_token_reuse', ctx, { only: sessionId }, 'auth.refresh_reuse');
    this.deps.onAuthEvent?.('refresh', 'refresh_token', 'reuse');
    await this.deps.security?.record('refresh_token_reuse', 'high', { ip: ctx.ip, userId, details: { session_id: sessionId } });
    throw new AppError('REFRESH_TOKEN_REUSED', 401, 'This refresh token was already used; the session has been ended for safety.');
  }

  /**
   * Ends sessions: the revocation store first (so access tokens stop at once,
   * and a failure there changes nothing), then the rows and the audit event.
   */
  async endSessions(userId: string, reason: string, ctx: AuditContext, filter: { only?: string; except?: string } = {}, action = 'auth.session_ended', trx?: Transaction<DB>): Promise<string[]> {
    const now = this.now();
    const run = async (t: Transaction<DB>) => {
      const ids = await repo.revokeSessions(t, userId, reason, now, filter);
      await this.deps.revocations.revoke(ids);
      if (ids.length) await appendAuditEvent(t, ctx, { action, entityType: 'user', entityId: userId, changes: { sessions: ids.length, reason } }, now);
      return ids;
    };
    return trx ? run(trx) : this.db.transaction().execute(run);
  }

  async listSessions(userId: string, currentSessionId: string) {
    const rows = await repo.listActiveSessions(this.db, userId, this.now());
    return rows.map((row) => ({ ...row, current: row.id === currentSessionId }));
  }

  async changePassword(userId: string, sessionId: string, input: { current_password: string; new_password: string }, ctx: AuditContext): Promise<void> {
    const user = await repo.findUserById(this.db, userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 401, 'Sign in to continue.');
    if (!(await this.deps.hasher.verify(user.password_hash, input.current_password))) {
      throw new AppError('INVALID_CREDENTIALS', 422, 'The current password is not correct.', { errors: [{ path: '/current_password', message: 'is not correct' }] });
    }
    await this.setPassword(user, input.new_password, ctx, { except: sessionId }, 'auth.password_changed');
  }

  async resetPassword(input: { reset_token: string; new_password: string }, ctx: AuditContext): Promise<void> {
    const now = this.now();
    const tokenHash = sha256(input.reset_token);
    const row = await this.db.selectFrom('password_reset_tokens').select(['user_id', 'used_at', 'expires_at']).where('token_hash', '=', tokenHash).executeTakeFirst();
    const user = row && !row.used_at && row.expires_at > now ? await repo.findUserById(this.db, row.user_id) : undefined;
    if (!user || user.status === 'deleted') throw new AppError('INVALID_TOKEN', 401, 'The reset token is not valid or has expired.');
    await checkPasswordStrength(input.new_password, [user.phone_number, user.full_name, user.email ?? '']);
    await this.setPassword(user, input.new_password, { ...ctx, actorId: user.id }, {}, 'auth.password_reset', tokenHash);
  }

  private async setPassword(user: UserRow, password: string, ctx: AuditContext, filter: { except?: string }, action: string, resetTokenHash?: string): Promise<void> {
    await checkPasswordStrength(password, [user.phone_number, user.full_name, user.email ?? '']);
    const passwordHash = await this.deps.hasher.hash(password);
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      if (resetTokenHash && !(await repo.spendResetToken(trx, resetTokenHash, now))) {
        throw new AppError('INVALID_TOKEN', 401, 'The reset token is not valid or has expired.');
      }
      await trx.updateTable('users').set({ password_hash: passwordHash, password_changed_at: now, updated_at: now, failed_login_attempts: 0, account_locked_until: null })
        .where('id', '=', user.id).execute();
      await appendAuditEvent(trx, ctx, { action, entityType: 'user', entityId: user.id }, now);
      await this.endSessions(user.id, action, ctx, filter, 'auth.session_ended', trx);
    });
  }
}
