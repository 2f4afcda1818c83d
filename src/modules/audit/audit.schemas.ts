import type { Selectable } from 'kysely';
import { Type, type Static } from 'typebox';
import type { AuditEventsTable } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { PageSchema, PaginationQuerySchema, PLAIN_TEXT_PATTERN, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

const nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const AuditEventSchema = Type.Object(
  {
    id: UuidSchema,
    seq: Type.Integer({ description: 'Position in the hash chain; newest is highest.' }),
    occurred_at: TimestampSchema,
    actor_id: nullable(Type.String()),
    actor_role: nullable(Type.String()),
    action: Type.String({ examples: ['user.status_changed'] }),
    entity_type: Type.String({ examples: ['user'] }),
    entity_id: nullable(Type.String()),
    changes: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'Changed fields as [before, after], or facts of the event; never secrets.' }),
    request_id: nullable(Type.String()),
    ip_address: nullable(Type.String()),
    user_agent: nullable(Type.String()),
    hash: Type.String({ description: 'SHA-256 over the previous event\'s hash and this event: editing or removing any event breaks the chain.' }),
  },
  { description: 'One entry of the tamper-evident audit trail.' },
);
export type AuditEvent = Static<typeof AuditEventSchema>;

const Filter = (description: string, maxLength = 100) => Type.Optional(Type.String({ minLength: 1, maxLength, pattern: PLAIN_TEXT_PATTERN, description }));

export const AuditQuerySchema = Type.Object(
  {
    entity_type: Filter('e.g. user, session, region', 50),
    entity_id: Filter('The entity\'s id'),
    actor_id: Type.Optional(UuidSchema),
    action: Filter('e.g. user.created', 100),
    from: Type.Optional(TimestampSchema),
    to: Type.Optional(TimestampSchema),
    ...PaginationQuerySchema,
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuerySchema>;

export const AuditPageSchema = PageSchema(AuditEventSchema);

export function toAuditEventResponse(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: row.id,
    seq: Number(row.seq),
    occurred_at: toIso(row.occurred_at),
    actor_id: row.actor_id,
    actor_role: row.actor_role,
    action: row.action,
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    changes: (row.changes ?? null) as AuditEvent['changes'],
    request_id: row.request_id,
    ip_address: row.ip_address,
    user_agent: row.user_agent,
    hash: row.hash,
  };
}
