import { sql, type Expression, type Insertable, type Kysely, type SqlBool, type Transaction, type Updateable } from 'kysely';
import type { AgentsTable, DB, PolicyStatus } from '../../db/types.js';
import type { CursorValue } from '../../shared/pagination.js';
import { escapeLike } from '../rbac/rbac.scope.js';
import type { AgentDetailRow } from './agents.schemas.js';

type Db = Kysely<DB> | Transaction<DB>;

const detailColumns = [
  'agents.id', 'agents.user_id', 'agents.agent_code', 'agents.status', 'agents.status_reason', 'users.full_name', 'users.phone_number', 'users.email', 'users.role',
  'agents.license_number', 'agents.license_expiry', 'agents.pan', 'agents.region_id', 'agents.manager_agent_id', 'agents.approved_at', 'agents.approved_by',
  'agents.created_at', 'agents.updated_at', 'agents.version',
] as const;

export function insertAgent(trx: Transaction<DB>, row: Insertable<AgentsTable>) {
  return trx.insertInto('agents').values(row).returning(['id', 'status']).executeTakeFirstOrThrow();
}

/** An agent with its user's name and contact, when `scope` (an agentScope condition) lets the caller see it. */
export function findAgentInScope(db: Db, agentId: string, scope: Expression<SqlBool>, lock = false): Promise<AgentDetailRow | undefined> {
  return db
    .selectFrom('agents')
    .innerJoin('users', 'users.id', 'agents.user_id')
    .select(detailColumns)
    .where('agents.id', '=', agentId)
    .where(scope)
    .$if(lock, (qb) => qb.forUpdate(['agents']))
    .executeTakeFirst();
}

export function updateAgent(trx: Transaction<DB>, agentId: string, patch: Updateable<AgentsTable>, version: number) {
  return trx.updateTable('agents').set({ ...patch, version: version + 1 }).where('id', '=', agentId).returning(['id', 'version']).executeTakeFirstOrThrow();
}

export function findRegionRef(db: Db, regionId: string) {
  return db.selectFrom('regions').select(['id', 'code', 'path']).where('id', '=', regionId).executeTakeFirst();
}

export async function nextAgentCodeNumber(trx: Transaction<DB>): Promise<number> {
  const result = await sql<{ n: number }>`SELECT nextval('agent_code_seq')::bigint AS n`.execute(trx);
  return result.rows[0]!.n;
}

export function providersOfAgents(db: Db, agentIds: readonly string[]) {
  if (agentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('agent_providers')
    .innerJoin('providers', 'providers.id', 'agent_providers.provider_id')
    .select(['agent_providers.agent_id', 'providers.id as provider_id', 'providers.code', 'providers.name', 'providers.type'])
    .where('agent_providers.agent_id', 'in', agentIds)
    .orderBy('providers.type')
    .execute();
}

/** The manager candidate as the hierarchy rules need it: its status, its user's role, and whether it shares a provider with the agent. */
export function findManagerCandidate(db: Db, managerId: string, agentId: string, scope: Expression<SqlBool>) {
  return db
    .selectFrom('agents')
    .innerJoin('users', 'users.id', 'agents.user_id')
    .select(['agents.id', 'agents.status', 'users.role'])
    .select((eb) => eb.exists(
      eb.selectFrom('agent_providers as mine')
        .innerJoin('agent_providers as theirs', 'theirs.provider_id', 'mine.provider_id')
        .select('mine.provider_id')
        .where('mine.agent_id', '=', agentId)
        .whereRef('theirs.agent_id', '=', 'agents.id'),
    ).as('shares_provider'))
    .where('agents.id', '=', managerId)
    .where(scope)
    .executeTakeFirst();
}

export interface AgentFilters {
  q?: string;
  status?: AgentDetailRow['status'];
  region_id?: string;
  provider_id?: string;
}

export function listAgents(db: Db, scope: Expression<SqlBool>, filters: AgentFilters, cursor: CursorValue[] | null, limit: number) {
  return db
    .selectFrom('agents')
    .innerJoin('users', 'users.id', 'agents.user_id')
    .select(['agents.id', 'agents.agent_code', 'users.full_name', 'agents.status', 'agents.region_id', 'agents.manager_agent_id', 'agents.created_at'])
    .select(sql<string>`agents.created_at::text`.as('cursor_at'))
    .where(scope)
    .$if(filters.q !== undefined, (qb) => qb.where((eb) => eb.or([
      eb('users.full_name', 'ilike', `%${escapeLike(filters.q!)}%`),
      eb('agents.agent_code', 'like', `${escapeLike(filters.q!.toUpperCase())}%`),
    ])))
    .$if(filters.status !== undefined, (qb) => qb.where('agents.status', '=', filters.status!))
    .$if(filters.region_id !== undefined, (qb) => qb.where('agents.region_id', '=', filters.region_id!))
    .$if(filters.provider_id !== undefined, (qb) => qb.where('agents.id', 'in', (eb) => eb.selectFrom('agent_providers').select('agent_id').where('provider_id', '=', filters.provider_id!)))
    .$if(cursor !== null, (qb) => qb.where(sql<SqlBool>`(agents.created_at, agents.id) < (${cursor![0]}, ${cursor![1]})`))
    .orderBy('agents.created_at', 'desc')
    .orderBy('agents.id', 'desc')
    .limit(limit + 1)
    .execute();
}

export function listTeam(db: Db, agentId: string, scope: Expression<SqlBool>) {
  return db
    .selectFrom('agents')
    .innerJoin('users', 'users.id', 'agents.user_id')
    .select(['agents.id', 'agents.agent_code', 'users.full_name', 'agents.status', 'agents.region_id', 'agents.manager_agent_id', 'agents.created_at'])
    .where('agents.id', 'in', sql<string>`(
      WITH RECURSIVE team(id) AS (
        SELECT id FROM agents WHERE manager_agent_id = ${agentId}
        UNION
        SELECT a.id FROM agents a JOIN team t ON a.manager_agent_id = t.id
      ) SELECT id FROM team)`)
    .where('agents.id', '!=', agentId)
    .where(scope)
    .orderBy('users.full_name')
    .limit(1000)
    .execute();
}

// --- metrics and commissions ---------------------------------------------------

export async function countCustomers(db: Db, agentId: string): Promise<number> {
  const row = await db.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).where('agent_id', '=', agentId).executeTakeFirstOrThrow();
  return row.n;
}

/** The agent's policies by status, premium in force and conversion, in one aggregate; `providerId` narrows to one provider's business. */
export async function agentPolicyTotals(db: Db, agentId: string, providerId: string | null) {
  const result = await sql<{ premium_paise: number; conversion: number | null }>`
    SELECT
      coalesce(sum(annualized_total_paise) FILTER (WHERE status = 'active'), 0)::bigint AS premium_paise,
      (count(*) FILTER (WHERE issued_at IS NOT NULL))::float8 / nullif(count(*), 0) AS conversion
    FROM policies
    WHERE agent_id = ${agentId} AND (${providerId}::uuid IS NULL OR provider_id = ${providerId}::uuid)`.execute(db);
  return result.rows[0]!;
}

export async function agentPoliciesByStatus(db: Db, agentId: string, providerId: string | null): Promise<{ status: PolicyStatus; count: number }[]> {
  return db
    .selectFrom('policies')
    .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
    .where('agent_id', '=', agentId)
    .$if(providerId !== null, (qb) => qb.where('provider_id', '=', providerId!))
    .groupBy('status')
    .execute();
}

export async function sumCommissionsEarned(db: Db, agentId: string, providerId: string | null): Promise<number> {
  const row = await db
    .selectFrom('commissions')
    .innerJoin('policies', 'policies.id', 'commissions.policy_id')
    .select(sql<number>`coalesce(sum(commissions.amount_paise), 0)::bigint`.as('total'))
    .where('commissions.agent_id', '=', agentId)
    .where('commissions.status', 'in', ['earned', 'paid'])
    .$if(providerId !== null, (qb) => qb.where('policies.provider_id', '=', providerId!))
    .executeTakeFirstOrThrow();
  return row.total;
}

export function listCommissions(db: Db, agentId: string, providerId: string | null, cursor: CursorValue[] | null, limit: number) {
  return db
    .selectFrom('commissions')
    .innerJoin('policies', 'policies.id', 'commissions.policy_id')
    .select(['commissions.id', 'commissions.policy_id', 'commissions.kind', 'commissions.amount_paise', 'commissions.status', 'commissions.earned_at', sql<string>`commissions.created_at::text`.as('cursor_at')])
    .where('commissions.agent_id', '=', agentId)
    .$if(providerId !== null, (qb) => qb.where('policies.provider_id', '=', providerId!))
    .$if(cursor !== null, (qb) => qb.where(sql<SqlBool>`(commissions.created_at, commissions.id) < (${cursor![0]}, ${cursor![1]})`))
    .orderBy('commissions.created_at', 'desc')
    .orderBy('commissions.id', 'desc')
    .limit(limit + 1)
    .execute();
}
