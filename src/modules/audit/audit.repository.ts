import { createHash } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
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

/** Stands in for the sequence number while the event's canonical JSON is built; split out again below. */
const SEQ_PLACEHOLDER = -9_007_199_254_740_991;

/**
 * The common table expressions that append one event to the chain: lock the
 * head row, take the next number, hash, move the head, insert. The hash is
 * hashEvent's, computed by the database: the event's canonical JSON is built
 * here with the number left out, and the database splices in head.seq + 1
 * (keys are sorted, so "seq" sits at a fixed place, after which only the user
 * agent, a JSON string, follows). Usable in any statement's WITH list: the
 * audit event then commits or rolls back with that statement's other writes.
 */
export function auditAppendCtes(context: AuditContext, entry: AuditEntry, now: Date): RawBuilder<unknown> {
  const id = newId(now.getTime());
  const changes = entry.changes ?? null;
  const event: ChainedFields = {
    seq: SEQ_PLACEHOLDER,
    id,
    occurred_at: now,
    actor_id: context.actorId,
    actor_role: context.actorRole,
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId ?? null,
    changes,
    request_id: context.requestId,
    ip_address: context.ip,
    user_agent: context.userAgent,
  };
  const canonical = canonicalJson({ ...event, occurred_at: now.toISOString() });
  const marker = `"seq":${SEQ_PLACEHOLDER}`;
  const at = canonical.lastIndexOf(marker);
  const before = `\n${canonical.slice(0, at)}"seq":`;
  const after = canonical.slice(at + marker.length);
  return sql`
    audit_head AS (SELECT seq, hash FROM audit_chain_head FOR UPDATE),
    audit_next AS (
      SELECT seq + 1 AS seq, hash AS prev_hash,
             encode(sha256(convert_to(hash || ${before}::text || (seq + 1)::text || ${after}::text, 'UTF8')), 'hex') AS hash
      FROM audit_head
    ),
    audit_moved AS (UPDATE audit_chain_head SET seq = audit_next.seq, hash = audit_next.hash FROM audit_next),
    audit_appended AS (
      INSERT INTO audit_events (seq, id, occurred_at, actor_id, actor_role, action, entity_type, entity_id, changes, request_id, ip_address, user_agent, prev_hash, hash)
      SELECT audit_next.seq, ${id}::uuid, ${now}::timestamptz, ${event.actor_id}::uuid, ${event.actor_role}::text, ${event.action}::text, ${event.entity_type}::text,
             ${event.entity_id}::text, ${changes === null ? null : JSON.stringify(changes)}::jsonb, ${event.request_id}::text, ${event.ip_address}::text,
             ${event.user_agent}::text, audit_next.prev_hash, audit_next.hash
      FROM audit_next
    )`;
}

/**
 * Appends one event to the chain inside the caller's transaction, in one
 * statement (auditAppendCtes): one round trip instead of three, and the head
 * lock is held from here to the commit only.
 */
export async function appendAuditEvent(trx: Transaction<DB>, context: AuditContext, entry: AuditEntry, now: Date): Promise<void> {
  await sql`WITH ${auditAppendCtes(context, entry, now)} SELECT 1`.execute(trx);
}

/** For events with no other write (a failed sign-in): their own short transaction. */
export async function recordAuditEvent(db: Kysely<DB>, context: AuditContext, entry: AuditEntry, now: Date): Promise<void> {
  await db.transaction().execute((trx) => appendAuditEvent(trx, context, entry, now));
}
