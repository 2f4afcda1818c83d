import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import type { DB, NewUser, Role, UserRow, UserStatus, UserUpdate } from '../../db/types.js';
import { mergedPageKeys, PAGE_MEMBER } from '../../db/merged-page.js';
import type { CursorValue } from '../../shared/pagination.js';
import { escapeLike, type Actor } from '../rbac/rbac.scope.js';

type Db = Kysely<DB> | Transaction<DB>;

/**
 * The users an actor may see, as a condition on the `users` table:
 * super_admin all; provider_admin its provider's users and the agents linked
 * to its provider; regional_manager users and agents of its region's subtree;
 * everyone (admins included) always sees itself, and others only themselves.
 */
export function userScope(actor: Actor): Expression<SqlBool> {
  const self = sql<SqlBool>`users.id = ${actor.userId}`;
  if (actor.role === 'super_admin') return sql<SqlBool>`true`;
  if (actor.role === 'provider_admin' && actor.providerId) {
    return sql<SqlBool>`(${self} OR users.provider_id = ${actor.providerId} OR users.id IN (
      SELECT a.user_id FROM agents a JOIN agent_providers ap ON ap.agent_id = a.id WHERE ap.provider_id = ${actor.providerId}))`;
  }
  if (actor.role === 'regional_manager' && actor.regionPath) {
    const subtree = escapeLike(actor.regionPath) + '%';
    return sql<SqlBool>`(${self}
      OR users.region_id IN (SELECT r.id FROM regions r WHERE r.path LIKE ${subtree})
      OR users.id IN (SELECT a.user_id FROM agents a JOIN regions r ON r.id = a.region_id WHERE r.path LIKE ${subtree}))`;
  }
  return self;
}

/**
 * A regional manager's or provider admin's scope is listed (shortUserList)
 * when it holds at most
 * this many users. Measured with `npm run bench:scopes` (100,000 users;
 * docs/architecture.md): a search page in about 1 ms for a district where
 * the walk in date order took 22-40, 14.8 against 24.9 at 2,000 users; at
 * 10,000 the walk wins (26 against 60).
 */
export const SHORT_USER_LIST = 2500;

/**
 * A regional manager's or provider admin's users as a list, when there are at
 * most `max` of them; null otherwise, and for every other role. A regional
 * manager's are itself, the users placed in its region's subtree and the
 * region's agents; a provider admin's itself, its provider's users and the
 * agents linked to the provider (userScope).
 *
 * Such a scope is a small share of the users (policyholders belong to none),
 * and the planner cannot tell how small from userScope's subqueries: it
 * walked every user in date order to find a district's four. Given the list,
 * it reads those rows by key. Read when asked, never stale; a region's part
 * region by region, each an index lookup (as a join, the planner walked the
 * users' region index from its start).
 */
export async function shortUserList(db: Db, actor: Actor, max = SHORT_USER_LIST): Promise<string[] | null> {
  // Twice the bound (and one), as a user may be in two parts (placed in the region and one of its agents):
  // fewer rows than that are the whole scope; that many hold more than `max` distinct users. A literal,
  // as shortAgentList says why.
  const cap = sql.lit(2 * max + 1);
  const parts = scopeUserParts(actor, cap);
  if (!parts) return null;
  const { rows } = await sql<{ id: string }>`SELECT ${actor.userId}::uuid AS id UNION ALL ${parts} LIMIT ${cap}`.execute(db);
  const ids = [...new Set(rows.map((row) => row.id))];
  return rows.length <= 2 * max && ids.length <= max ? ids : null;
}

/**
 * userScope's parts beyond the actor itself, as a union of ids each read from
 * its own index: a region's placed users and agents region by region (at most
 * `perRegion` of each per region), a provider's users and linked agents. null
 * for roles whose scope is all or only themselves. A user may come twice.
 */
function scopeUserParts(actor: Actor, perRegion: RawBuilder<unknown>) {
  if (actor.role === 'regional_manager' && actor.regionPath) {
    const subtree = escapeLike(actor.regionPath) + '%';
    return sql<{ id: string }>`
      SELECT u.id FROM regions r CROSS JOIN LATERAL (SELECT users.id FROM users WHERE users.region_id = r.id LIMIT ${perRegion}) u
      WHERE r.path LIKE ${subtree}
      UNION ALL
      SELECT a.user_id FROM regions r CROSS JOIN LATERAL (SELECT agents.user_id FROM agents WHERE agents.region_id = r.id LIMIT ${perRegion}) a
      WHERE r.path LIKE ${subtree}`;
  }
  if (actor.role === 'provider_admin' && actor.providerId) {
    return sql<{ id: string }>`
      SELECT users.id FROM users WHERE users.provider_id = ${actor.providerId}
      UNION ALL
      SELECT a.user_id FROM agent_providers ap JOIN agents a ON a.id = ap.agent_id WHERE ap.provider_id = ${actor.providerId}`;
  }
  return null;
}

/**
 * Ids of the users in the actor's scope, for use inside another query (the
 * audit trail's): scopeUserParts, complete, where `SELECT id FROM users WHERE
 * userScope(...)` read the whole table to test its ORs (twice per audit page:
 * 25 ms on 100,000 users). A user may appear twice; IN does not mind.
 */
export function userIdsInScope(actor: Actor) {
  const parts = scopeUserParts(actor, sql.raw('ALL'));
  return parts ? sql<string>`(SELECT ${actor.userId}::uuid UNION ALL ${parts})` : sql<string>`(SELECT users.id FROM users WHERE ${userScope(actor)})`;
}

export function findUserInScope(db: Db, actor: Actor, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).where(userScope(actor)).executeTakeFirst();
}

/** Locks the row for the rest of the transaction; an out-of-scope row is as absent as a missing one. */
export function lockUserInScope(trx: Transaction<DB>, actor: Actor, id: string): Promise<UserRow | undefined> {
  return trx.selectFrom('users').selectAll().where('id', '=', id).where(userScope(actor)).forUpdate().executeTakeFirst();
}

export function lockUsersInScope(trx: Transaction<DB>, actor: Actor, ids: string[]): Promise<UserRow[]> {
  return trx.selectFrom('users').selectAll().where('id', 'in', ids).where(userScope(actor)).orderBy('id').forUpdate().execute();
}

export function insertUser(trx: Db, row: NewUser): Promise<UserRow> {
  return trx.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateUser(trx: Db, id: string, changes: UserUpdate): Promise<UserRow> {
  return trx
    .updateTable('users')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function setUserStatus(trx: Db, id: string, status: UserStatus, reason: string | null, now: Date): Promise<UserRow> {
  return updateUser(trx, id, { status, status_reason: reason, updated_at: now });
}

export async function providerExists(db: Db, id: string): Promise<boolean> {
  return (await db.selectFrom('providers').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export function findRegionPath(db: Db, id: string): Promise<string | undefined> {
  return db.selectFrom('regions').select('path').where('id', '=', id).executeTakeFirst().then((r) => r?.path);
}

// --- search ----------------------------------------------------------------------

export interface UserSearch {
  q?: string;
  role?: Role;
  status?: UserStatus;
  provider_id?: string;
  region_id?: string;
  created_from?: string;
  created_to?: string;
  field: 'full_name' | 'created_at';
  direction: 'asc' | 'desc';
  limit: number;
  after: CursorValue[] | null;
}

export type UserSearchRow = UserRow & { sort_key: string };

/** Digits of a phone-like query, trunk zeros dropped: '098765' and '+91 98765' both search by digits. */
function phoneDigits(q: string): string | null {
  if (!/^[0-9+()\-. ]+$/.test(q)) return null;
  const digits = q.replace(/\D/g, '').replace(/^0+/, '');
  return digits.length >= 3 ? digits : null;
}

/** Users whose agent code starts with q; looked up first so the search's OR stays a union of index scans. */
async function findUsersByAgentCodePrefix(db: Db, q: string): Promise<string[]> {
  const rows = await db.selectFrom('agents').select('user_id').where('agent_code', 'like', escapeLike(q.trim()).toUpperCase() + '%').limit(100).execute();
  return rows.map((r) => r.user_id);
}

/**
 * q: name anywhere (trigram index), email prefix, agent code prefix, phone prefix with or without +91.
 * Every arm is index-backed and none is a subquery, so the planner can OR bitmap scans together
 * instead of walking the whole table in sort order (src/db/indexes.test.ts guards this).
 */
function matchesQuery(q: string, agentUserIds: string[]): Expression<SqlBool> {
  const text = escapeLike(q.trim());
  const parts = [
    sql<SqlBool>`users.full_name ILIKE ${'%' + text + '%'}`,
    sql<SqlBool>`(users.email IS NOT NULL AND lower(users.email) LIKE ${text.toLowerCase() + '%'})`,
  ];
  if (agentUserIds.length) parts.push(sql<SqlBool>`users.id = ANY(${agentUserIds}::uuid[])`);
  const digits = phoneDigits(q.trim());
  if (digits) {
    parts.push(sql<SqlBool>`users.phone_number LIKE ${'+' + digits + '%'}`);
    if (!q.trim().startsWith('+')) parts.push(sql<SqlBool>`users.phone_number LIKE ${'+91' + digits + '%'}`);
  }
  return sql<SqlBool>`(${sql.join(parts, sql` OR `)})`;
}

/** The sort key as the cursor carries it: lower-cased name, or the timestamp to the microsecond. */
function sortKey(field: UserSearch['field']) {
  return field === 'full_name'
    ? sql<string>`lower(users.full_name)`
    : sql<string>`to_char(users.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Keyset condition: strictly after the last row served, in the sort's direction, ties broken by id. */
function afterCursor(s: UserSearch, after: CursorValue[]): Expression<SqlBool> {
  const [key, id] = after;
  const op = sql.raw(s.direction === 'asc' ? '>' : '<');
  return s.field === 'full_name'
    ? sql<SqlBool>`(lower(users.full_name), users.id) ${op} (${String(key)}, ${String(id)}::uuid)`
    : sql<SqlBool>`(users.created_at, users.id) ${op} (${String(key)}::timestamptz, ${String(id)}::uuid)`;
}

export async function searchUsers(db: Db, actor: Actor, s: UserSearch): Promise<UserSearchRow[]> {
  const orderExpr = s.field === 'full_name' ? sql`lower(users.full_name)` : sql`users.created_at`;
  const members = await shortUserList(db, actor);
  let query = db.selectFrom('users').selectAll('users').select(sortKey(s.field).as('sort_key'))
    .where(members ? sql<SqlBool>`users.id = ${PAGE_MEMBER}` : userScope(actor));
  query = s.status ? query.where('users.status', '=', s.status) : query.where('users.status', '!=', 'deleted');
  if (s.q) query = query.where(matchesQuery(s.q, await findUsersByAgentCodePrefix(db, s.q)));
  if (s.role) query = query.where('users.role', '=', s.role);
  if (s.provider_id) query = query.where('users.provider_id', '=', s.provider_id);
  if (s.region_id) query = query.where('users.region_id', '=', s.region_id);
  if (s.created_from) query = query.where('users.created_at', '>=', new Date(s.created_from));
  if (s.created_to) query = query.where('users.created_at', '<', new Date(s.created_to));
  if (s.after) query = query.where(afterCursor(s, s.after));
  if (members) {
    // Each listed user's row by its key (LIMIT 1 keeps the lateral a loop of key lookups: as a join the
    // planner read the whole table for 400 of 40,000), then the page's keys and its rows.
    const keys = mergedPageKeys({ members, perMember: query.limit(1), keys: ['sort_key', 'id'], direction: s.direction, take: s.limit + 1 });
    return db.selectFrom('users').innerJoin(keys.as('page'), 'page.id', 'users.id').selectAll('users').select(sortKey(s.field).as('sort_key'))
      .orderBy('page.sort_key', s.direction).orderBy('page.id', s.direction).execute();
  }
  if (s.q) {
    // A text search is planned on its own (OFFSET 0 fences it): with the LIMIT pushed in, the planner would
    // walk the sort index hoping to meet matches early, and read the whole table when there are few or none.
    const hits = query.offset(0).as('hits');
    return db.selectFrom(hits).selectAll().orderBy('hits.sort_key', s.direction).orderBy('hits.id', s.direction).limit(s.limit + 1).execute() as Promise<UserSearchRow[]>;
  }
  return query.orderBy(orderExpr, s.direction).orderBy('users.id', s.direction).limit(s.limit + 1).execute();
}

// --- preferences -----------------------------------------------------------------

export function findPreferences(db: Db, userId: string) {
  return db.selectFrom('user_preferences').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export function lockPreferences(trx: Transaction<DB>, userId: string) {
  return trx.selectFrom('user_preferences').selectAll().where('user_id', '=', userId).forUpdate().executeTakeFirst();
}

export interface PreferencesValues {
  language: string;
  timezone: string;
  notifications: { sms: boolean; email: boolean; push: boolean; whatsapp: boolean };
  quiet_hours: { start: string; end: string } | null;
}

export function upsertPreferences(trx: Db, userId: string, values: PreferencesValues, now: Date) {
  const row = {
    language: values.language,
    timezone: values.timezone,
    notifications: JSON.stringify(values.notifications),
    quiet_hours: values.quiet_hours ? JSON.stringify(values.quiet_hours) : null,
    updated_at: now,
  };
  return trx
    .insertInto('user_preferences')
    .values({ user_id: userId, ...row })
    .onConflict((oc) => oc.column('user_id').doUpdateSet((eb) => ({ ...row, version: eb('user_preferences.version', '+', 1) })))
    .returningAll()
    .executeTakeFirstOrThrow();
}
