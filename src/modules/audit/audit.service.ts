import { sql, type Kysely, type SqlBool } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Principal } from '../../plugins/authenticate.js';
import { decodeCursor, toPage } from '../../shared/pagination.js';
import type { Actor } from '../rbac/rbac.scope.js';
import type { UsersService } from '../users/users.service.js';
import { toAuditEventResponse, type AuditEvent, type AuditQuery } from './audit.schemas.js';

/**
 * Reading the audit trail. super_admin sees all of it; a provider_admin or
 * regional_manager sees the events about, or done by, users in its scope.
 * (Route permission audit.read keeps everyone else out.)
 */
export class AuditService {
  constructor(private readonly db: Kysely<DB>, private readonly users: UsersService) {}

  async list(principal: Principal, query: AuditQuery): Promise<{ items: AuditEvent[]; next_cursor: string | null }> {
    const actor = await this.users.actorOf(principal);
    const limit = query.limit ?? 20;
    const cursor = decodeCursor(query.cursor, 1);
    let q = this.db.selectFrom('audit_events').selectAll();
    if (actor.role !== 'super_admin') q = q.where(this.scope(actor));
    if (query.entity_type) q = q.where('entity_type', '=', query.entity_type);
    if (query.entity_id) q = q.where('entity_id', '=', query.entity_id);
    if (query.actor_id) q = q.where('actor_id', '=', query.actor_id);
    if (query.action) q = q.where('action', '=', query.action);
    if (query.from) q = q.where('occurred_at', '>=', new Date(query.from));
    if (query.to) q = q.where('occurred_at', '<', new Date(query.to));
    if (cursor) q = q.where('seq', '<', Number(cursor[0]));
    const rows = await q.orderBy('seq', 'desc').limit(limit + 1).execute();
    const page = toPage(rows, limit, (row) => [Number(row.seq)]);
    return { items: page.items.map(toAuditEventResponse), next_cursor: page.next_cursor };
  }

  private scope(actor: Actor) {
    const ids = this.users.idsInScope(actor);
    return sql<SqlBool>`((audit_events.entity_type = 'user' AND audit_events.entity_id IN (SELECT id::text FROM ${ids} AS scoped(id)))
      OR audit_events.actor_id IN ${ids})`;
  }
}
