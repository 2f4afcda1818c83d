import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { newId } from '../../shared/ids.js';

/** Who did it and from where; built once per request. */
export interface AuditContext {
  actorId: string | null;
  actorRole: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId?: string | null;
  /** Changed fields, before and after; secrets never (callers pass only safe fields). */
  changes?: Record<string, unknown> | null;
}

export const SYSTEM_CONTEXT: AuditContext = { actorId: null, actorRole: 'system', requestId: null, ip: null, userAgent: null };

/** Stable JSON: object keys sorted at every depth, so the hash survives jsonb's own key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface ChainedFields {
  seq: number;
  id: string;
  occurred_at: Date;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  entity_type: string;
  entity_id: string | null;
  changes: unknown;
  request_id: string | null;
  ip_address: string | null;
  user_agent: string | null;
}

export function hashEvent(prevHash: string, event: ChainedFields): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson({ ...event, occurred_at: event.occurred_at.toISOString() })).digest('hex');
}

/**
 * Appends one event to the chain inside the caller's transaction. The head row
 * lock orders concurrent writers; the event commits or rolls back with the change.
 */
export async function appendAuditEvent(trx: Transaction<DB>, context: AuditContext, entry: AuditEntry, now: Date): Promise<void> {
  const head = await trx.selectFrom('audit_chain_head').select(['seq', 'hash']).forUpdate().executeTakeFirstOrThrow();
  const event: ChainedFields = {
    seq: head.seq + 1,
    id: newId(now.getTime()),
    occurred_at: now,
    actor_id: context.actorId,
    actor_role: context.actorRole,
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId ?? null,
    changes: entry.changes ?? null,
    request_id: context.requestId,
    ip_address: context.ip,
    user_agent: context.userAgent,
  };
  const hash = hashEvent(head.hash, event);
  await trx
    .insertInto('audit_events')
    .values({ ...event, changes: event.changes === null ? null : JSON.stringify(event.changes), prev_hash: head.hash, hash })
    .execute();
  await trx.updateTable('audit_chain_head').set({ seq: event.seq, hash }).execute();
}

/** For events with no other write (a failed sign-in): their own short transaction. */
export async function recordAuditEvent(db: Kysely<DB>, context: AuditContext, entry: AuditEntry, now: Date): Promise<void> {
  await db.transaction().execute((trx) => appendAuditEvent(trx, context, entry, now));
}
