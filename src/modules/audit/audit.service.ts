import { sql, type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { mergedPageKeys, PAGE_MEMBER } from '../../db/merged-page.js';
import type { AuditEventsTable, DB } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import { decodeCursor, toPage } from '../../shared/pagination.js';
import { policyScope } from '../policies/policies.repository.js';
import { agentScope, escapeLike, type Actor } from '../rbac/rbac.scope.js';
import type { UsersService } from '../users/users.service.js';
import { toAuditEventResponse, type AuditEvent, type AuditQuery } from './audit.schemas.js';

/**
 * A scope of at most this many users reads the trail user by user (two index
 * ranges each); a larger one walks the trail newest first, testing each event
 * against the scope's users. The merge's cost follows the scope: 0.8-4.1 ms
 * a page up to 300 users (`npm run bench:scopes`, on a trail of 500,000
 * events). The walk's follows the trail over the scope's share of it: 43 ms
 * for a district of 4 users there, 8.4 at 300 users, and the whole trail
 * when the scope's events are rare among others. So the bound favours the
 * merge's bounded cost.
 */
const AUDIT_SHORT_LIST = 1000;

/** The shape of the ids our records carry: an entity id is cast to uuid only when it has it. */
const UUID_TEXT = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/**
 * Reading the audit trail. super_admin sees all of it; a provider_admin or
 * regional_manager sees the events about users in its scope, and the events
 * done by them about records it may see itself (reach): an agent linked to
 * two insurers acts for both, and one insurer's admin must not read the
 * other's policies (their sums, premiums and customers) in the trail.
 * (Route permission audit.read keeps everyone else out.)
 */
export class AuditService {
  constructor(private readonly db: Kysely<DB>, private readonly users: UsersService) {}

  async list(principal: Principal, query: AuditQuery): Promise<{ items: AuditEvent[]; next_cursor: string | null }> {
    const actor = await this.users.actorOf(principal);
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor, ['integer']);
    const filtered = <O>(q: SelectQueryBuilder<DB, 'audit_events', O>, before: number | null, take: number) => q
      .$if(query.entity_type !== undefined, (qb) => qb.where('audit_events.entity_type', '=', query.entity_type!))
      .$if(query.entity_id !== undefined, (qb) => qb.where('audit_events.entity_id', '=', query.entity_id!))
      .$if(query.actor_id !== undefined, (qb) => qb.where('audit_events.actor_id', '=', query.actor_id!))
      .$if(query.action !== undefined, (qb) => qb.where('audit_events.action', '=', query.action!))
      .$if(query.from !== undefined, (qb) => qb.where('audit_events.occurred_at', '>=', new Date(query.from!)))
      .$if(query.to !== undefined, (qb) => qb.where('audit_events.occurred_at', '<', new Date(query.to!)))
      .$if(before !== null, (qb) => qb.where('audit_events.seq', '<', before!))
      .orderBy('audit_events.seq', 'desc')
      .limit(take);
    const before = cursor === null ? null : Number(cursor[0]);
    const members = actor.role === 'super_admin' ? null : await this.users.shortListInScope(actor, AUDIT_SHORT_LIST);
    const rows = members
      ? await this.shortScopePage(actor, members, filtered, before, limit + 1)
      : await filtered(this.db.selectFrom('audit_events').selectAll().$if(actor.role !== 'super_admin', (qb) => qb.where(this.scope(actor))), before, limit + 1).execute();
    const page = toPage(rows, limit, (row) => [Number(row.seq)]);
    return { items: page.items.map(toAuditEventResponse), next_cursor: page.next_cursor };
  }

  /**
   * A short scope (a district's staff and agents) is read user by user: each
   * one's latest events by it and about it, merged (tested against a
   * subquery, the whole trail was walked to find a quiet district's few).
   * Whether an event by a member is about a record in reach is asked of the
   * merged candidates only, not of every member's: asked inside each
   * member's range it cost a 300-agent district 40 ms a page against 4.
   * Candidates out of reach leave the page short, so the next ones are read,
   * twice as many each time, until the page is full or the trail ends.
   */
  private async shortScopePage(
    actor: Actor, members: string[],
    filtered: <O>(q: SelectQueryBuilder<DB, 'audit_events', O>, before: number | null, take: number) => SelectQueryBuilder<DB, 'audit_events', O>,
    before: number | null, want: number,
  ): Promise<Selectable<AuditEventsTable>[]> {
    const shown = sql<boolean>`(audit_events.entity_type = 'user' AND audit_events.entity_id = ANY(${members}::text[])) OR ${reach(actor)}`;
    const rows: Selectable<AuditEventsTable>[] = [];
    for (let take = want, after = before; ; take = Math.min(take * 2, 1000)) {
      const arm = (owner: RawBuilder<SqlBool>) => filtered(this.db.selectFrom('audit_events').select('audit_events.seq').where(owner), after, take);
      const perUser = sql`(${arm(sql<SqlBool>`audit_events.actor_id = ${PAGE_MEMBER}`)})
        UNION ALL (${arm(sql<SqlBool>`audit_events.entity_type = 'user' AND audit_events.entity_id = ${PAGE_MEMBER}::text`)})`;
      const keys = mergedPageKeys({ members, perMember: perUser, keys: ['seq'], direction: 'desc', take, distinct: true });
      const batch = await this.db.selectFrom('audit_events').innerJoin(keys.as('page'), 'page.seq', 'audit_events.seq')
        .selectAll('audit_events').select(shown.as('shown')).orderBy('audit_events.seq', 'desc').execute();
      for (const { shown: visible, ...row } of batch) if (visible) rows.push(row);
      if (rows.length >= want || batch.length < take) return rows.slice(0, want);
      after = Number(batch.at(-1)!.seq);
    }
  }

  private scope(actor: Actor) {
    const ids = this.users.idsInScope(actor);
    return sql<SqlBool>`((audit_events.entity_type = 'user' AND audit_events.entity_id IN (SELECT id::text FROM ${ids} AS scoped(id)))
      OR (audit_events.actor_id IN ${ids} AND ${reach(actor)}))`;
  }
}

/**
 * Whether the record an event is about lies in the reader's own scope, for
 * events done by users in its scope: their sign-ins and one-time codes;
 * policies by policyScope; customers, agents and agents' documents by
 * agentScope; a provider admin's provider and its products; a regional
 * manager's regions. Users are not here: an event about a user is shown when
 * that user is in scope (the other arm). Anything else (feature flags, kinds
 * to come) is for super_admin only. A few index lookups per event asked,
 * about 6 µs on the bench's data, so the short scopes' read asks it of
 * merged candidates only (shortScopePage).
 */
function reach(actor: Actor): RawBuilder<SqlBool> {
  const id = sql`CAST(audit_events.entity_id AS uuid)`;
  const no = sql<SqlBool>`false`;
  const provider = actor.role === 'provider_admin' && actor.providerId ? actor.providerId : null;
  const regions = actor.role === 'regional_manager' && actor.regionPath ? escapeLike(actor.regionPath) + '%' : null;
  return sql<SqlBool>`CASE
    WHEN audit_events.entity_type IN ('session', 'phone') THEN true
    WHEN audit_events.entity_id IS NULL OR audit_events.entity_id !~ ${UUID_TEXT} THEN false
    WHEN audit_events.entity_type = 'policy' THEN EXISTS (SELECT 1 FROM policies WHERE policies.id = ${id} AND ${policyScope(actor)})
    WHEN audit_events.entity_type = 'customer' THEN EXISTS (SELECT 1 FROM customers c WHERE c.id = ${id} AND ${agentScope(actor, sql.ref('c.agent_id'))})
    WHEN audit_events.entity_type = 'agent' THEN ${agentScope(actor, id)}
    WHEN audit_events.entity_type = 'agent_document' THEN EXISTS (SELECT 1 FROM agent_documents d WHERE d.id = ${id} AND ${agentScope(actor, sql.ref('d.agent_id'))})
    WHEN audit_events.entity_type = 'provider' THEN ${provider ? sql<SqlBool>`${id} = ${provider}::uuid` : no}
    WHEN audit_events.entity_type = 'product' THEN ${provider ? sql<SqlBool>`EXISTS (SELECT 1 FROM products p WHERE p.id = ${id} AND p.provider_id = ${provider}::uuid)` : no}
    WHEN audit_events.entity_type = 'region' THEN ${regions ? sql<SqlBool>`EXISTS (SELECT 1 FROM regions r WHERE r.id = ${id} AND r.path LIKE ${regions})` : no}
    ELSE false
  END`;
}
