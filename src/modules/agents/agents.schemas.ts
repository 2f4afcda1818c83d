import { Type, type Static, type TSchema } from 'typebox';
import { AGENT_STATUSES, POLICY_STATUSES, PROVIDER_TYPES, type AgentStatus } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { DateSchema, EmailSchema, NameSchema, PaginationQuerySchema, PhoneInputSchema, PhoneSchema, TextSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';
import { OtpTicketSchema, PasswordSchema } from '../auth/auth.schemas.js';

const closed = { additionalProperties: false } as const;
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const AgentStatusSchema = Type.Enum(AGENT_STATUSES, { description: 'pending_approval → active | rejected; active ↔ suspended; active → inactive.' });
const LicenceNumberSchema = Type.String({ minLength: 5, maxLength: 30, pattern: '^[A-Za-z0-9/-]+$', description: '5 to 30 letters, digits, / or - (IRDAI publishes no format).', examples: ['IRDA/AG/2024-1187'] });
const PanSchema = Type.String({ minLength: 10, maxLength: 10, pattern: '^[A-Za-z]{5}[0-9]{4}[A-Za-z]$', description: 'An individual\'s PAN (4th letter P); upper-cased.', examples: ['ABCPE1234F'] });

export const RegisterAgentBodySchema = Type.Object(
  {
    phone_number: PhoneInputSchema,
    full_name: NameSchema,
    password: PasswordSchema,
    email: Type.Optional(EmailSchema),
    license_number: LicenceNumberSchema,
    license_expiry: DateSchema,
    pan: PanSchema,
    provider_ids: Type.Array(UuidSchema, { minItems: 1, maxItems: PROVIDER_TYPES.length, uniqueItems: true, description: 'Providers to represent: active, at most one of each type.' }),
    region_id: Type.Optional(UuidSchema),
  },
  {
    ...closed,
    examples: [{
      phone_number: '+91 98765 43210', full_name: 'Ravi Kumar', password: 'monsoon tea on the ghats', license_number: 'IRDA/AG/2024-1187',
      license_expiry: '2029-03-31', pan: 'ABCPE1234F', provider_ids: ['01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12'],
    }],
  },
);
export type RegisterAgentBody = Static<typeof RegisterAgentBodySchema>;

export const RegisterAgentResponseSchema = Type.Object({
  agent_id: UuidSchema,
  user_id: UuidSchema,
  status: Type.Literal('pending_approval'),
  otp: OtpTicketSchema,
});

const ProviderLinkSchema = Type.Object({ provider_id: UuidSchema, code: Type.String(), name: Type.String(), type: Type.Enum(PROVIDER_TYPES) });

export const AgentSchema = Type.Object(
  {
    id: UuidSchema,
    user_id: UuidSchema,
    agent_code: nullable(Type.String({ description: 'Assigned on approval, e.g. AG-MH-000123; signs in with method agent_code.' })),
    status: AgentStatusSchema,
    status_reason: nullable(Type.String()),
    full_name: Type.String(),
    phone_number: PhoneSchema,
    email: nullable(Type.String()),
    role: Type.String({ description: 'The user\'s role: junior_agent or senior_agent.' }),
    license_number: Type.String(),
    license_expiry: DateSchema,
    pan: Type.String(),
    region_id: nullable(UuidSchema),
    manager_agent_id: nullable(UuidSchema),
    providers: Type.Array(ProviderLinkSchema),
    approved_at: nullable(TimestampSchema),
    approved_by: nullable(UuidSchema),
    created_at: TimestampSchema,
    updated_at: TimestampSchema,
  },
  { description: 'An agent: its licence, territory, manager and the providers it represents.' },
);
export type Agent = Static<typeof AgentSchema>;

export interface AgentDetailRow {
  id: string;
  user_id: string;
  agent_code: string | null;
  status: AgentStatus;
  status_reason: string | null;
  full_name: string;
  phone_number: string;
  email: string | null;
  role: string;
  license_number: string;
  license_expiry: string;
  pan: string;
  region_id: string | null;
  manager_agent_id: string | null;
  approved_at: Date | null;
  approved_by: string | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

export function toAgentResponse(row: AgentDetailRow, providers: Agent['providers']): Agent {
  return {
    id: row.id,
    user_id: row.user_id,
    agent_code: row.agent_code,
    status: row.status,
    status_reason: row.status_reason,
    full_name: row.full_name,
    phone_number: row.phone_number,
    email: row.email,
    role: row.role,
    license_number: row.license_number,
    license_expiry: row.license_expiry,
    pan: row.pan,
    region_id: row.region_id,
    manager_agent_id: row.manager_agent_id,
    providers,
    approved_at: row.approved_at ? toIso(row.approved_at) : null,
    approved_by: row.approved_by,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

export const AgentSummarySchema = Type.Object({
  id: UuidSchema,
  agent_code: nullable(Type.String()),
  full_name: Type.String(),
  status: AgentStatusSchema,
  region_id: nullable(UuidSchema),
  manager_agent_id: nullable(UuidSchema),
  created_at: TimestampSchema,
});
export type AgentSummary = Static<typeof AgentSummarySchema>;

export const UpdateAgentBodySchema = Type.Object(
  {
    license_number: Type.Optional(LicenceNumberSchema),
    license_expiry: Type.Optional(DateSchema),
    manager_agent_id: Type.Optional(nullable(UuidSchema)),
    region_id: Type.Optional(nullable(UuidSchema)),
  },
  {
    ...closed,
    minProperties: 1,
    description: 'The agent renews its licence (number, expiry); administrators (regional_manager, super_admin) also set manager_agent_id and region_id.',
    examples: [{ license_expiry: '2031-03-31' }],
  },
);
export type UpdateAgentBody = Static<typeof UpdateAgentBodySchema>;

export const AgentListQuerySchema = Type.Object(
  {
    q: Type.Optional(TextSchema(100, { description: 'Name (anywhere) or agent code (prefix).' })),
    status: Type.Optional(AgentStatusSchema),
    region_id: Type.Optional(UuidSchema),
    provider_id: Type.Optional(UuidSchema),
    ...PaginationQuerySchema,
  },
  closed,
);
export type AgentListQuery = Static<typeof AgentListQuerySchema>;

export const AgentParamsSchema = Type.Object({ agent_id: UuidSchema }, closed);
export const ReasonBodySchema = Type.Object(
  { reason: TextSchema(500, { description: 'Why; kept with the agent and in the audit trail.' }) },
  { ...closed, examples: [{ reason: 'Licence could not be verified with IRDAI' }] },
);
export const OptionalReasonBodySchema = Type.Object({ reason: Type.Optional(TextSchema(500)) }, closed);

const countsOf = (keys: readonly string[]) => Type.Object(Object.fromEntries(keys.map((key) => [key, Type.Integer({ minimum: 0 })])));

export const AgentMetricsSchema = Type.Object({
  agent_id: UuidSchema,
  customers: Type.Integer({ minimum: 0 }),
  policies_by_status: countsOf(POLICY_STATUSES),
  premium_paise: Type.Integer({ description: 'Sum of annualized_total_paise over the agent\'s active policies.' }),
  commissions_earned_paise: Type.Integer({ description: 'Commissions earned or paid (claw-backs excluded).' }),
  conversion: nullable(Type.Number({ minimum: 0, maximum: 1, description: 'Policies issued / policies drafted; null before the first draft.' })),
});
export type AgentMetrics = Static<typeof AgentMetricsSchema>;

export const CommissionItemSchema = Type.Object({
  commission_id: UuidSchema,
  policy_id: UuidSchema,
  kind: Type.Enum(['first_year', 'renewal', 'override'] as const),
  amount_paise: Type.Integer(),
  status: Type.Enum(['earned', 'paid', 'clawed_back'] as const),
  earned_at: TimestampSchema,
});
export const CommissionListQuerySchema = Type.Object({ ...PaginationQuerySchema }, closed);
