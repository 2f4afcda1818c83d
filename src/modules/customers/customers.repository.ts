import { sql, type Expression, type Insertable, type Kysely, type SqlBool, type Transaction, type Updateable } from 'kysely';
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

export function listCustomers(db: Db, scope: Expression<SqlBool>, filters: CustomerFilters, sort: { field: 'created_at' | 'full_name'; direction: 'asc' | 'desc' }, cursor: CursorValue[] | null, limit: number) {
  const column = `customers.${sort.field}`;
  return db
    .selectFrom('customers')
    .selectAll()
    .select(sql<string>`customers.created_at::text`.as('cursor_at'))
    .where(scope)
    .$if(filters.name !== undefined, (qb) => qb.where('customers.full_name', 'ilike', `%${escapeLike(filters.name!)}%`))
    .$if(filters.phone !== undefined, (qb) => qb.where('customers.phone_number', '=', filters.phone!))
    .$if(filters.agentId !== undefined, (qb) => qb.where('customers.agent_id', '=', filters.agentId!))
    .$if(cursor !== null, (qb) => qb.where(sql<SqlBool>`(${sql.ref(column)}, customers.id) ${sql.raw(sort.direction === 'asc' ? '>' : '<')} (${cursor![0]}, ${cursor![1]})`))
    .orderBy(sql.ref(column), sort.direction)
    .orderBy('customers.id', sort.direction)
    .limit(limit + 1)
    .execute();
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

export function findPolicyholderIdByPhone(db: Db, phone: string) {
  return db.selectFrom('users').select('id').where('phone_number', '=', phone).where('role', '=', 'policyholder').where('status', '!=', 'deleted').executeTakeFirst();
}
