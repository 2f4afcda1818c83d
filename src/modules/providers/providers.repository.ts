import { sql, type Expression, type Insertable, type Kysely, type SqlBool, type Transaction, type Updateable } from 'kysely';
import type { AgentStatus, CommissionRulesTable, DB, PolicyStatus, ProductKind, ProvidersTable, ProviderType } from '../../db/types.js';
import type { CursorValue } from '../../shared/pagination.js';
import { escapeLike } from '../rbac/rbac.scope.js';
import type { CommissionRuleRow, ProviderRow } from './providers.schemas.js';

type Db = Kysely<DB> | Transaction<DB>;

export function insertProvider(trx: Db, row: Insertable<ProvidersTable>): Promise<ProviderRow> {
  return trx.insertInto('providers').values(row).returningAll().executeTakeFirstOrThrow();
}

export function findProviderById(db: Db, id: string): Promise<ProviderRow | undefined> {
  return db.selectFrom('providers').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockProviderById(trx: Transaction<DB>, id: string): Promise<ProviderRow | undefined> {
  return trx.selectFrom('providers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function findProvidersByIds(db: Db, ids: readonly string[]): Promise<ProviderRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('providers').selectAll().where('id', 'in', ids).execute();
}

export async function isProviderCodeTaken(db: Db, code: string): Promise<boolean> {
  return (await db.selectFrom('providers').select('id').where('code', '=', code).executeTakeFirst()) !== undefined;
}

export function updateProvider(trx: Transaction<DB>, id: string, patch: Updateable<ProvidersTable>, version: number): Promise<ProviderRow> {
  return trx.updateTable('providers').set({ ...patch, version: version + 1 }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export interface ProviderFilters {
  q?: string;
  type?: ProviderType;
  status?: ProviderRow['status'];
}

export function listProviders(db: Db, filters: ProviderFilters, sort: { field: 'name' | 'code' | 'created_at'; direction: 'asc' | 'desc' }, cursor: CursorValue[] | null, limit: number) {
  const column = `providers.${sort.field}`;
  return db
    .selectFrom('providers')
    .selectAll()
    .select(sql<string>`providers.created_at::text`.as('cursor_at'))
    .$if(filters.q !== undefined, (qb) => qb.where((eb) => eb.or([
      eb('providers.name', 'ilike', `%${escapeLike(filters.q!)}%`),
      eb('providers.code', 'like', `${escapeLike(filters.q!.toUpperCase())}%`),
    ])))
    .$if(filters.type !== undefined, (qb) => qb.where('providers.type', '=', filters.type!))
    .$if(filters.status !== undefined, (qb) => qb.where('providers.status', '=', filters.status!))
    .$if(cursor !== null, (qb) => qb.where(sql<SqlBool>`(${sql.ref(column)}, providers.id) ${sql.raw(sort.direction === 'asc' ? '>' : '<')} (${cursor![0]}, ${cursor![1]})`))
    .orderBy(sql.ref(column), sort.direction)
    .orderBy('providers.id', sort.direction)
    .limit(limit + 1)
    .execute();
}

// --- commission rules --------------------------------------------------------

/** The schedule stored for exactly this kind (null: the provider's default). */
export function findCommissionRule(db: Db, providerId: string, kind: ProductKind | null, lock = false): Promise<CommissionRuleRow | undefined> {
  return db
    .selectFrom('commission_rules')
    .selectAll()
    .where('provider_id', '=', providerId)
    .where((eb) => (kind === null ? eb('product_kind', 'is', null) : eb('product_kind', '=', kind)))
    .$if(lock, (qb) => qb.forUpdate())
    .executeTakeFirst();
}

/**
 * The schedule that applies to a product kind: the kind's own, else the
 * provider's default; undefined when the provider has neither.
 */
export function findEffectiveCommissionRule(db: Db, providerId: string, kind: ProductKind | null): Promise<CommissionRuleRow | undefined> {
  return db
    .selectFrom('commission_rules')
    .selectAll()
    .where('provider_id', '=', providerId)
    .where((eb) => (kind === null ? eb('product_kind', 'is', null) : eb.or([eb('product_kind', '=', kind), eb('product_kind', 'is', null)])))
    .orderBy(sql`product_kind IS NULL`)
    .limit(1)
    .executeTakeFirst();
}

export function insertCommissionRule(trx: Transaction<DB>, row: Insertable<CommissionRulesTable>): Promise<CommissionRuleRow> {
  return trx.insertInto('commission_rules').values(row).returningAll().executeTakeFirstOrThrow();
}

export function updateCommissionRule(trx: Transaction<DB>, id: string, patch: Updateable<CommissionRulesTable>, version: number): Promise<CommissionRuleRow> {
  return trx.updateTable('commission_rules').set({ ...patch, version: version + 1 }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

// --- agent links -------------------------------------------------------------

export function findAgentLinks(db: Db, agentId: string) {
  return db
    .selectFrom('agent_providers')
    .innerJoin('providers', 'providers.id', 'agent_providers.provider_id')
    .select(['agent_providers.provider_id', 'agent_providers.provider_type', 'providers.code', 'providers.name'])
    .where('agent_providers.agent_id', '=', agentId)
    .execute();
}

export function insertAgentLinks(trx: Transaction<DB>, rows: { agent_id: string; provider_id: string; provider_type: ProviderType; created_at: Date }[]) {
  return trx.insertInto('agent_providers').values(rows).returningAll().execute();
}

export function listProviderAgents(db: Db, providerId: string, scope: Expression<SqlBool>, status: AgentStatus | undefined, cursor: CursorValue[] | null, limit: number) {
  return db
    .selectFrom('agent_providers')
    .innerJoin('agents', 'agents.id', 'agent_providers.agent_id')
    .innerJoin('users', 'users.id', 'agents.user_id')
    .select(['agents.id as agent_id', 'agents.agent_code', 'users.full_name', 'agents.status', 'agents.region_id', 'agent_providers.created_at as linked_at', sql<string>`agent_providers.created_at::text`.as('cursor_at')])
    .where('agent_providers.provider_id', '=', providerId)
    .where(scope)
    .$if(status !== undefined, (qb) => qb.where('agents.status', '=', status!))
    .$if(cursor !== null, (qb) => qb.where(sql<SqlBool>`(agent_providers.created_at, agent_providers.agent_id) > (${cursor![0]}, ${cursor![1]})`))
    .orderBy('agent_providers.created_at', 'asc')
    .orderBy('agent_providers.agent_id', 'asc')
    .limit(limit + 1)
    .execute();
}

// --- metrics -----------------------------------------------------------------

export async function countProviderAgentsByStatus(db: Db, providerId: string): Promise<{ status: AgentStatus; count: number }[]> {
  return db
    .selectFrom('agent_providers')
    .innerJoin('agents', 'agents.id', 'agent_providers.agent_id')
    .select(['agents.status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('agent_providers.provider_id', '=', providerId)
    .groupBy('agents.status')
    .execute();
}

export async function countPoliciesByStatus(db: Db, column: 'provider_id' | 'agent_id', id: string, providerId: string | null = null): Promise<{ status: PolicyStatus; count: number }[]> {
  return db
    .selectFrom('policies')
    .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
    .where(column, '=', id)
    .$if(providerId !== null, (qb) => qb.where('provider_id', '=', providerId!))
    .groupBy('status')
    .execute();
}

/** Premium in force and the lapse ratio, aggregated by the database in one pass. */
export async function providerPolicyTotals(db: Db, providerId: string): Promise<{ premium_in_force_paise: number; lapse_ratio: number | null }> {
  const result = await sql<{ premium_in_force_paise: number; lapse_ratio: number | null }>`
    SELECT
      coalesce(sum(annualized_total_paise) FILTER (WHERE status = 'active'), 0)::bigint AS premium_in_force_paise,
      (count(*) FILTER (WHERE status = 'lapsed'))::float8
        / nullif(count(*) FILTER (WHERE status IN ('active', 'lapsed')), 0) AS lapse_ratio
    FROM policies WHERE provider_id = ${providerId}`.execute(db);
  return result.rows[0]!;
}
