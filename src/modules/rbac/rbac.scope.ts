import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { AgentStatus, DB, Role } from '../../db/types.js';
import { AppError } from '../../shared/errors.js';

type Db = Kysely<DB> | Transaction<DB>;

/**
 * The caller as scope rules need it: role plus the provider, region (with its
 * tree path) and agent record it belongs to. Built by Callers (rbac.callers.ts).
 */
export interface Actor {
  userId: string;
  sessionId: string;
  role: Role;
  providerId: string | null;
  regionId: string | null;
  regionPath: string | null;
  agentId: string | null;
  agentStatus: AgentStatus | null;
  /**
   * A senior agent's team (itself included), resolved once per request: as a
   * plain id list the planner can estimate it, where a recursive CTE inside
   * the row filter made it walk whole tables in sort order.
   */
  teamAgentIds: string[];
}

/**
 * Names the caller's scope for keying cached answers: every field of the
 * actor but the session, so two callers share a key only if every scope rule
 * (those here and any added later) treats them alike.
 */
export function scopeKey(actor: Actor): string {
  const { sessionId: _session, ...scope } = actor;
  return JSON.stringify(scope);
}

/** Agents are sellers only once approved; a pending or suspended agent may touch nothing but its own profile. */
export function assertActiveAgent(actor: Actor): void {
  if ((actor.role === 'junior_agent' || actor.role === 'senior_agent') && actor.agentStatus !== 'active') {
    throw new AppError('FORBIDDEN', 403, 'Your agent account is not active yet.');
  }
}

/** Ids of an agent and everyone who reports to it, at any depth. */
export function teamOf(db: Db, agentId: string) {
  return sql<{ id: string }>`
    WITH RECURSIVE team(id) AS (
      SELECT id FROM agents WHERE id = ${agentId}
      UNION
      SELECT a.id FROM agents a JOIN team t ON a.manager_agent_id = t.id
    ) SELECT id FROM team`.execute(db);
}

/**
 * The agents whose rows (customers, policies, documents) the actor may see,
 * as a SQL condition on an agent-id column:
 * super_admin all; provider_admin agents linked to its provider;
 * regional_manager agents of its region and sub-regions; senior_agent itself
 * and its team; junior_agent itself; anyone else none.
 */
export function agentScope(actor: Actor, agentIdColumn: Expression<string | null> | ReturnType<typeof sql.ref>): Expression<SqlBool> {
  switch (actor.role) {
    case 'super_admin':
      return sql<SqlBool>`true`;
    case 'provider_admin':
      return actor.providerId
        ? sql<SqlBool>`${agentIdColumn} IN (SELECT ap.agent_id FROM agent_providers ap WHERE ap.provider_id = ${actor.providerId})`
        : sql<SqlBool>`false`;
    case 'regional_manager':
      return actor.regionPath
        ? sql<SqlBool>`${agentIdColumn} IN (SELECT a.id FROM agents a JOIN regions r ON r.id = a.region_id WHERE r.path LIKE ${escapeLike(actor.regionPath) + '%'})`
        : sql<SqlBool>`false`;
    case 'senior_agent':
      return actor.teamAgentIds.length ? sql<SqlBool>`${agentIdColumn} = ANY(${actor.teamAgentIds}::uuid[])` : sql<SqlBool>`false`;
    case 'junior_agent':
      return actor.agentId ? sql<SqlBool>`${agentIdColumn} = ${actor.agentId}` : sql<SqlBool>`false`;
    default:
      return sql<SqlBool>`false`;
  }
}

/**
 * A region of at most this many agents has its lists read agent by agent
 * (mergedPageKeys: at most 300 × 21 index entries for a page of 20); a larger
 * one through agentScope's condition, a walk in date order that meets a page
 * sooner the larger the region's share of the book. Measured with
 * `npm run bench:scopes` (10,000 agents, 200,000 policies;
 * docs/architecture.md): merged, a district's policy page took 1.3-5.6 ms
 * where the walk took 13.8-111; at 1,000 agents the walk wins (5.8 ms
 * against 18 merged).
 */
export const SHORT_AGENT_LIST = 300;

/**
 * The agents of the actor's scope as a list, when it is a short one: a senior
 * agent's team of two or more, or the agents of a regional manager's region
 * when it has at most SHORT_AGENT_LIST of them. Read when asked, so a list
 * never lags an agent's move. null when the scope is not such a list (then
 * agentScope's condition serves: for one agent it is an index range already).
 * Region by region (the LIMIT keeps each one an index lookup: as a join, the
 * planner walked the whole agents index to find a district's three), the
 * LIMIT a literal: as a parameter, the prepared statement's generic plan
 * guessed it small and scanned the agents table for it.
 */
export async function shortAgentList(db: Db, actor: Actor): Promise<string[] | null> {
  if (actor.role === 'senior_agent') return actor.teamAgentIds.length >= 2 ? actor.teamAgentIds : null;
  if (actor.role !== 'regional_manager' || !actor.regionPath) return null;
  const { rows } = await sql<{ id: string }>`
    SELECT a.id FROM regions r
    CROSS JOIN LATERAL (SELECT agents.id FROM agents WHERE agents.region_id = r.id LIMIT ${sql.lit(SHORT_AGENT_LIST + 1)}) a
    WHERE r.path LIKE ${escapeLike(actor.regionPath) + '%'}
    LIMIT ${sql.lit(SHORT_AGENT_LIST + 1)}`.execute(db);
  return rows.length <= SHORT_AGENT_LIST ? rows.map((row) => row.id) : null;
}

/** LIKE treats % and _ as wildcards; a region path must match literally. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
