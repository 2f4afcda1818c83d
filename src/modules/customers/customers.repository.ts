import { sql, type Expression, type Insertable, type Kysely, type SelectQueryBuilder, type SqlBool, type Transaction, type Updateable } from 'kysely';
import { mergedPageKeys, PAGE_MEMBER } from '../../db/merged-page.js';
import type { CustomersTable, DB } from '../../db/types.js';
import type { CursorValue } from '../../shared/pagination.js';
import { escapeLike } from '../rbac/rbac.scope.js';
import type { CustomerRow } from './customers.schemas.js';

type Db = Kysely<DB> | Transaction<DB>;

export function insertCustomer(trx: Db, row: Insertable<CustomersTable>): Promise<CustomerRow> {
  return trx.insertInto('customers').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The customer when `scope` (agentScope on customers.agent_id) covers it. */
export function findCustomerInScope(db: Db, customerId: string, scope: Expression<SqlBool>, lock = false): Promise<CustomerRow | undefined> {
  return db
    .selectFrom('customers')
    .selectAll()
    .where('customers.id', '=', customerId)
    .where(scope)
    .$if(lock, (qb) => qb.forUpdate())
    .executeTakeFirst();
}

export function updateCustomer(trx: Transaction<DB>, customerId: string, patch: Updateable<CustomersTable>, version: number): Promise<CustomerRow> {
  return trx.updateTable('customers').set({ ...patch, version: version + 1 }).where('id', '=', customerId).returningAll().executeTakeFirstOrThrow();
}

export interface CustomerFilters {
  name?: string;
  phone?: string;
  agentId?: string;
}

export interface CustomerPageRequest {
  filters: CustomerFilters;
  sort: { field: 'created_at' | 'full_name'; direction: 'asc' | 'desc' };
  cursor: CursorValue[] | null;
  limit: number;
}

/**
 * One keyset page (limit + 1 rows). `scope` is agentScope on customers.agent_id;
 * when the scope is a short list of agents (shortAgentList) the page is read
 * agent by agent and merged (mergedPageKeys): by date from each agent's
 * (agent_id, created_at, id) index; by name from each agent's customers,
 * whose books are small enough to sort (a seller's few hundred), where
 * `agent_id = ANY(list)` had PostgreSQL scan the whole table.
 */
export async function listCustomers(db: Db, scope: Expression<SqlBool>, agents: readonly string[] | null, page: CustomerPageRequest): Promise<Array<CustomerRow & { cursor_at: string }>> {
  const { filters, sort, cursor, limit } = page;
  const column = sql.ref(`customers.${sort.field}`);
  const pageOf = <Q extends SelectQueryBuilder<DB, 'customers', object>>(query: Q): Q => (query as SelectQueryBuilder<DB, 'customers', object>)
    .$if(filters.name !== undefined, (qb) => qb.where('customers.full_name', 'ilike', `%${escapeLike(filters.name!)}%`))
    .$if(filters.phone !== undefined, (qb) => qb.where('customers.phone_number', '=', filters.phone!))
    .$if(filters.agentId !== undefined, (qb) => qb.where('customers.agent_id', '=', filters.agentId!))
    .$if(cursor !== null, (qb) => qb.where(sql<SqlBool>`(${column}, customers.id) ${sql.raw(sort.direction === 'asc' ? '>' : '<')} (${cursor![0]}, ${cursor![1]})`))
    .orderBy(column, sort.direction)
    .orderBy('customers.id', sort.direction)
    .limit(limit + 1) as Q;
  const rows = (query: SelectQueryBuilder<DB, 'customers', object>) => query.selectAll('customers').select(sql<string>`customers.created_at::text`.as('cursor_at'));
  if (!agents) return pageOf(rows(db.selectFrom('customers')).where(scope)).execute();
  const perAgent = pageOf(db.selectFrom('customers').select(['customers.id', column.as(sort.field)]).where(sql<SqlBool>`customers.agent_id = ${PAGE_MEMBER}`));
  const keys = mergedPageKeys({ members: agents, perMember: perAgent, keys: [sort.field, 'id'], direction: sort.direction, take: limit + 1 });
  return rows(db.selectFrom('customers').innerJoin(keys.as('page'), 'page.id', 'customers.id'))
    .orderBy(column, sort.direction).orderBy('customers.id', sort.direction).execute();
}

/**
 * Links every customer record with this phone to the policyholder login that
 * owns it, so the policyholder sees its policies. Called when a customer is
 * created and meant to be called when a policyholder registers or verifies.
 */
export async function linkCustomersToUser(trx: Db, userId: string, phone: string): Promise<number> {
  const result = await trx.updateTable('customers').set((eb) => ({ user_id: userId, version: eb('version', '+', 1) })).where('phone_number', '=', phone).where('user_id', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The policyholder login that has proven this phone (an unproven one may be anyone's: policyScope says why). */
export function findPolicyholderIdByPhone(db: Db, phone: string) {
  return db.selectFrom('users').select('id').where('phone_number', '=', phone).where('role', '=', 'policyholder').where('status', '!=', 'deleted')
    .where('phone_verified_at', 'is not', null).executeTakeFirst();
}
