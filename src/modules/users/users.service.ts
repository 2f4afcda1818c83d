import type { Kysely, Transaction } from 'kysely';
import type { DB, Role, UserRow, UserStatus, UserUpdate } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import type { Clock } from '../../shared/clock.js';
import { AppError, forbidden, notFound, validationFailed } from '../../shared/errors.js';
import { runIdempotent, type StoredResponse } from '../../shared/idempotency.js';
import { newId } from '../../shared/ids.js';
import { decodeSortedCursor, parseSort, sortName, toPage } from '../../shared/pagination.js';
import { appendAuditEvent, type AuditContext } from '../audit/audit.repository.js';
import { checkPasswordStrength, type PasswordHasher } from '../auth/auth.passwords.js';
import { identityConflict, requirePhone, type AuthService } from '../auth/auth.service.js';
import { hasPermission, outranks } from '../rbac/rbac.permissions.js';
import type { Actor } from '../rbac/rbac.scope.js';
import type { Callers } from '../rbac/rbac.callers.js';
import { assertIfMatch } from '../../shared/etag.js';
import { assertTimezone, currentValues, mergePreferences, toPreferencesResponse } from './users.preferences.js';
import * as repo from './users.repository.js';
import { assertCanManage, assertTransition, BULK_TARGET, canTransition, endsSessions, manageRefusal } from './users.rules.js';
import {
  ADMIN_FIELDS, toUserResponse,
  type BulkBody, type BulkResult, type CreateUserBody, type Preferences, type PreferencesBody, type SearchQuery, type UpdateUserBody, type User,
} from './users.schemas.js';

export interface UsersServiceDeps {
  db: Kysely<DB>;
  clock: Clock;
  hasher: PasswordHasher;
  auth: AuthService;
  callers: Callers;
}

interface Placement {
  provider_id?: string | null;
  region_id?: string | null;
}

const PROFILE_AUDITED = ['full_name', 'email', 'provider_id', 'region_id'] as const;

const normalizeEmail = (email: string | null | undefined) => (email === undefined ? undefined : email?.trim().toLowerCase() || null);

/**
 * User administration and self-service. Scope (which users a caller sees) is
 * users.repository's userScope; what a caller may do to a visible user is
 * users.rules. Every change writes its audit event in the same transaction.
 */
export class UsersService {
  constructor(private readonly deps: UsersServiceDeps) {}

  private get db() {
    return this.deps.db;
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  async getSelf(userId: string): Promise<UserRow> {
    const user = await this.deps.callers.user(userId);
    if (!user || user.status === 'deleted') throw new AppError('UNAUTHENTICATED', 401, 'Sign in to continue.');
    return user;
  }

  actorOf(principal: Principal): Promise<Actor> {
    return this.deps.callers.actor(principal);
  }

  /** Subquery of the user ids in the actor's scope, for other modules' filters (the audit trail). */
  idsInScope(actor: Actor) {
    return repo.userIdsInScope(actor);
  }

  /** The same users as a list, when the scope is a short one of at most `max` (repo.shortUserList); null otherwise. */
  shortListInScope(actor: Actor, max: number): Promise<string[] | null> {
    return repo.shortUserList(this.db, actor, max);
  }

  // --- reads ---------------------------------------------------------------------

  /** A user the caller may see: itself, or one in its scope when it administers users. */
  async get(principal: Principal, userId: string): Promise<UserRow> {
    const actor = await this.actorOf(principal);
    return this.visible(actor, await repo.findUserInScope(this.db, actor, userId), 'user.read');
  }

  private visible(actor: Actor, row: UserRow | undefined, permission: string): UserRow {
    if (!row || (row.id !== actor.userId && !hasPermission(actor.role, permission))) throw notFound('User');
    return row;
  }

  async search(principal: Principal, query: SearchQuery): Promise<{ items: User[]; next_cursor: string | null }> {
    const actor = await this.actorOf(principal);
    const sort = parseSort(query.sort ?? '-created_at', ['full_name', 'created_at'] as const, 'created_at');
    const limit = query.limit ?? 20;
    const after = decodeSortedCursor(query.cursor, sort);
    const rows = await repo.searchUsers(this.db, actor, { ...query, ...sort, limit, after });
    const page = toPage(rows, limit, (row) => [sortName(sort), row.sort_key, row.id]);
    return { items: page.items.map(toUserResponse), next_cursor: page.next_cursor };
  }

  // --- create ----------------------------------------------------------------------

  async create(principal: Principal, body: CreateUserBody, ctx: AuditContext, idempotencyKey?: string): Promise<StoredResponse<User>> {
    const actor = await this.actorOf(principal);
    if (!outranks(actor.role, body.role)) throw forbidden('You can only create users whose role is below yours.');
    const phone = requirePhone(body.phone_number);
    const email = normalizeEmail(body.email) ?? null;
    const placement = this.defaultPlacement(actor, body);
    this.assertRolePlacement(body.role, placement);
    await this.checkPlacement(this.db, actor, placement);
    if (body.password) await checkPasswordStrength(body.password, [phone, body.full_name, email ?? '']);
    const passwordHash = body.password ? await this.deps.hasher.hash(body.password) : null;
    // The stored request fingerprint must not become an unsalted hash of the password.
    const scope = { userId: actor.userId, key: idempotencyKey, method: 'POST', path: '/users', body: { ...body, password: body.password ? 'set' : null } };
    return runIdempotent(this.db, scope, async (trx) => {
      await this.deps.auth.assertIdentityFree(trx, phone, email);
      const now = this.now();
      const row = await repo.insertUser(trx, {
        id: newId(now.getTime()), phone_number: phone, email, full_name: body.full_name.trim(), password_hash: passwordHash, role: body.role,
        status: 'active', provider_id: placement.provider_id ?? null, region_id: placement.region_id ?? null,
        password_changed_at: passwordHash ? now : null, created_at: now, updated_at: now,
      }).catch((error: unknown) => { throw identityConflict(error) ?? error; });
      await appendAuditEvent(trx, ctx, { action: 'user.created', entityType: 'user', entityId: row.id, changes: {
        role: row.role, status: row.status, provider_id: row.provider_id, region_id: row.region_id, password_set: passwordHash !== null,
      } }, now);
      return { status: 201, body: toUserResponse(row) };
    });
  }

  /** A provider_admin's users belong to its provider, a regional_manager's to its region, unless told otherwise. */
  private defaultPlacement(actor: Actor, body: Placement): Placement {
    return {
      provider_id: body.provider_id ?? (actor.role === 'provider_admin' ? actor.providerId : null),
      region_id: body.region_id ?? (actor.role === 'regional_manager' ? actor.regionId : null),
    };
  }

  private assertRolePlacement(role: Role, placement: Placement): void {
    if (role === 'provider_admin' && !placement.provider_id) {
      throw validationFailed([{ path: '/provider_id', message: 'is required for a provider_admin' }], 'A provider_admin belongs to a provider.');
    }
    if (role === 'regional_manager' && !placement.region_id) {
      throw validationFailed([{ path: '/region_id', message: 'is required for a regional_manager' }], 'A regional_manager belongs to a region.');
    }
  }

  /**
   * Provider and region given in a body: they must exist (422), and a scoped
   * administrator may only place users inside its own scope (403).
   */
  private async checkPlacement(db: Kysely<DB> | Transaction<DB>, actor: Actor, placement: Placement): Promise<void> {
    const { provider_id: providerId, region_id: regionId } = placement;
    if (providerId !== undefined && actor.role === 'provider_admin' && providerId !== actor.providerId) {
      throw forbidden('You can only place users in your own provider.');
    }
    if (providerId && !(await repo.providerExists(db, providerId))) {
      throw validationFailed([{ path: '/provider_id', message: 'is not a known provider' }], 'No such provider.');
    }
    if (regionId === undefined) return;
    const path = regionId === null ? undefined : await repo.findRegionPath(db, regionId);
    if (regionId !== null && path === undefined) {
      throw validationFailed([{ path: '/region_id', message: 'is not a known region' }], 'No such region.');
    }
    if (actor.role === 'regional_manager' && !(path && actor.regionPath && path.startsWith(actor.regionPath))) {
      throw forbidden('You can only place users in your region or its sub-regions.');
    }
  }

  // --- update ----------------------------------------------------------------------

  async update(principal: Principal, userId: string, body: UpdateUserBody, ifMatch: string | undefined, ctx: AuditContext): Promise<UserRow> {
    const actor = await this.actorOf(principal);
    const email = normalizeEmail(body.email);
    const updated = await this.db.transaction().execute(async (trx) => {
      const target = await this.lockVisible(trx, actor, userId, 'user.update');
      assertIfMatch(ifMatch, target.version);
      this.assertMayEdit(actor, target, body);
      await this.checkPlacement(trx, actor, { provider_id: body.provider_id, region_id: body.region_id });
      if (body.status !== undefined && body.status !== target.status) assertTransition(target.status, body.status);
      if (email && email !== target.email) await this.deps.auth.assertIdentityFree(trx, target.phone_number, email, target.id);
      const changes = changedFields(target, { ...body, ...(email !== undefined ? { email } : {}), full_name: body.full_name?.trim() });
      if (Object.keys(changes).length === 0) return target;
      if (changes.role || 'provider_id' in changes || 'region_id' in changes) this.assertRolePlacement(changes.role ?? target.role, { ...target, ...changes });
      const now = this.now();
      const row = await repo.updateUser(trx, target.id, { ...changes, updated_at: now, ...(changes.status ? { status_reason: null } : {}) })
        .catch((error: unknown) => { throw identityConflict(error) ?? error; });
      await this.auditUpdate(trx, ctx, target, row, now);
      if (changes.status && endsSessions(changes.status)) await this.endSessions(trx, row, ctx);
      return row;
    });
    await this.deps.callers.changed([updated.id]);
    return updated;
  }

  /** Self-service covers the profile only; on others an administrator must outrank the target, and any new role too. */
  private assertMayEdit(actor: Actor, target: UserRow, body: UpdateUserBody): void {
    const adminFields = ADMIN_FIELDS.filter((field) => body[field] !== undefined);
    if (target.id === actor.userId) {
      if (adminFields.length) throw forbidden(`You cannot change your own ${adminFields.join(', ')}; an administrator can.`);
      return;
    }
    assertCanManage(actor, target);
    if (body.role !== undefined && !outranks(actor.role, body.role)) throw forbidden('You can only give roles below your own.');
  }

  private async auditUpdate(trx: Transaction<DB>, ctx: AuditContext, before: UserRow, after: UserRow, now: Date): Promise<void> {
    const entry = { entityType: 'user', entityId: after.id };
    const profile = Object.fromEntries(PROFILE_AUDITED.filter((f) => before[f] !== after[f]).map((f) => [f, [before[f], after[f]]]));
    if (Object.keys(profile).length) await appendAuditEvent(trx, ctx, { ...entry, action: 'user.updated', changes: profile }, now);
    if (before.role !== after.role) await appendAuditEvent(trx, ctx, { ...entry, action: 'user.role_changed', changes: { role: [before.role, after.role] } }, now);
    if (before.status !== after.status) {
      await appendAuditEvent(trx, ctx, { ...entry, action: 'user.status_changed', changes: { status: [before.status, after.status] } }, now);
    }
  }

  // --- status and deletion -----------------------------------------------------------

  async setStatus(principal: Principal, userId: string, body: { status: UserStatus; reason: string | null }, ifMatch: string | undefined, ctx: AuditContext): Promise<UserRow> {
    const actor = await this.actorOf(principal);
    return this.db.transaction().execute(async (trx) => {
      const target = await this.lockVisible(trx, actor, userId, 'user.update');
      assertIfMatch(ifMatch, target.version);
      assertCanManage(actor, target);
      assertTransition(target.status, body.status);
      return this.applyStatus(trx, target, body.status, body.reason, ctx);
    }).finally(() => this.deps.callers.changed([userId]));
  }

  /** Soft delete: the record and its history stay; sessions end and sign-in treats it as unknown. */
  async remove(principal: Principal, userId: string, ifMatch: string | undefined, ctx: AuditContext): Promise<void> {
    await this.setStatus(principal, userId, { status: 'deleted', reason: null }, ifMatch, ctx);
  }

  async bulk(principal: Principal, body: BulkBody, ctx: AuditContext): Promise<BulkResult> {
    const actor = await this.actorOf(principal);
    if (body.action === 'delete' && !hasPermission(actor.role, 'user.delete')) throw forbidden('This needs the user.delete permission.');
    const to = BULK_TARGET[body.action];
    const result = await this.db.transaction().execute(async (trx) => {
      const rows = new Map((await repo.lockUsersInScope(trx, actor, body.user_ids)).map((row) => [row.id, row]));
      const results: BulkResult['results'] = [];
      for (const userId of body.user_ids) {
        const row = rows.get(userId);
        const code = !row ? 'NOT_FOUND' : manageRefusal(actor, row)?.code ?? (canTransition(row.status, to) ? null : 'INVALID_TRANSITION');
        if (row && !code) await this.applyStatus(trx, row, to, null, ctx);
        results.push(code ? { user_id: userId, ok: false, code } : { user_id: userId, ok: true });
      }
      const changed = results.filter((r) => r.ok).length;
      await appendAuditEvent(trx, ctx, { action: 'user.bulk', entityType: 'user', entityId: null,
        changes: { action: body.action, requested: body.user_ids.length, changed, refused: body.user_ids.length - changed } }, this.now());
      return { results };
    });
    await this.deps.callers.changed(result.results.filter((r) => r.ok).map((r) => r.user_id));
    return result;
  }

  /** Writes an allowed status change, audits it and, for a disabling one, ends every session at once. */
  private async applyStatus(trx: Transaction<DB>, target: UserRow, to: UserStatus, reason: string | null, ctx: AuditContext): Promise<UserRow> {
    const now = this.now();
    const row = await repo.setUserStatus(trx, target.id, to, reason, now);
    const action = to === 'deleted' ? 'user.deleted' : 'user.status_changed';
    await appendAuditEvent(trx, ctx, { action, entityType: 'user', entityId: row.id, changes: { status: [target.status, to], reason } }, now);
    if (endsSessions(to)) await this.endSessions(trx, row, ctx);
    return row;
  }

  private async endSessions(trx: Transaction<DB>, user: UserRow, ctx: AuditContext): Promise<void> {
    await this.deps.auth.endSessions(user.id, `account_${user.status}`, ctx, {}, 'auth.session_ended', trx);
  }

  private async lockVisible(trx: Transaction<DB>, actor: Actor, userId: string, permission: string): Promise<UserRow> {
    return this.visible(actor, await repo.lockUserInScope(trx, actor, userId), permission);
  }

  // --- preferences -------------------------------------------------------------------

  async getPreferences(principal: Principal, userId: string): Promise<{ preferences: Preferences; version: number }> {
    const actor = await this.actorOf(principal);
    const user = this.visible(actor, await repo.findUserInScope(this.db, actor, userId), 'user.read');
    const row = await repo.findPreferences(this.db, user.id);
    return { preferences: toPreferencesResponse(user.id, currentValues(row)), version: row?.version ?? 0 };
  }

  async updatePreferences(principal: Principal, userId: string, body: PreferencesBody, ifMatch: string | undefined, ctx: AuditContext) {
    const actor = await this.actorOf(principal);
    assertTimezone(body.timezone);
    return this.db.transaction().execute(async (trx) => {
      const user = this.visible(actor, await repo.findUserInScope(trx, actor, userId), 'user.update');
      // Like any other change to a user: yourself, or a user whose role is below yours (a provider admin
      // sees its fellow provider admins, a regional manager the higher ranks placed in its region).
      if (user.id !== actor.userId) assertCanManage(actor, user);
      const stored = await repo.lockPreferences(trx, user.id);
      assertIfMatch(ifMatch, stored?.version ?? 0);
      const before = currentValues(stored);
      const after = mergePreferences(before, body);
      const now = this.now();
      const row = await repo.upsertPreferences(trx, user.id, after, now);
      await appendAuditEvent(trx, ctx, { action: 'user.preferences_updated', entityType: 'user', entityId: user.id, changes: diffValues(before, after) }, now);
      return { preferences: toPreferencesResponse(user.id, after), version: row.version };
    });
  }
}

/** The fields of an update that differ from the row: what to write and to audit. */
function changedFields(target: UserRow, body: UpdateUserBody): UserUpdate & { role?: Role; status?: UserStatus } {
  const changes: UserUpdate & { role?: Role; status?: UserStatus } = {};
  for (const field of ['full_name', 'email', 'role', 'status', 'provider_id', 'region_id'] as const) {
    const value = body[field];
    if (value !== undefined && value !== target[field]) Object.assign(changes, { [field]: value });
  }
  return changes;
}

function diffValues<T extends object>(before: T, after: T): Record<string, unknown> {
  const entries = Object.keys(after).map((k) => [k, before[k as keyof T], after[k as keyof T]] as const);
  return Object.fromEntries(entries.filter(([, b, a]) => JSON.stringify(b) !== JSON.stringify(a)).map(([k, b, a]) => [k, [b, a]]));
}
