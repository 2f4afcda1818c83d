import type { Selectable } from 'kysely';
import { Type, type Static, type TSchema } from 'typebox';
import { AGENT_STATUSES, POLICY_STATUSES, PRODUCT_KINDS, PROVIDER_TYPES, type CommissionRulesTable, type ProvidersTable } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { EmailSchema, PaginationQuerySchema, PhoneInputSchema, PhoneSchema, TextSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

export type ProviderRow = Selectable<ProvidersTable>;
export type CommissionRuleRow = Selectable<CommissionRulesTable>;

const closed = { additionalProperties: false } as const;
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const PROVIDER_STATUSES = ['active', 'inactive', 'suspended'] as const;
export const ProviderTypeSchema = Type.Enum(PROVIDER_TYPES, { description: 'IRDAI line of business: an agent represents at most one provider of each type.' });
export const ProviderStatusSchema = Type.Enum(PROVIDER_STATUSES);
export const ProductKindSchema = Type.Enum(PRODUCT_KINDS);

/** Codes travel into policy numbers, so they are short, upper-case and stable; input is upper-cased first. */
export const CODE_PATTERN = /^[A-Z][A-Z0-9_-]{1,19}$/;
export const CodeInputSchema = Type.String({ minLength: 2, maxLength: 20, pattern: '^[A-Za-z][A-Za-z0-9_-]{1,19}$', description: 'Letter first, then letters, digits, _ or -; stored upper-case.', examples: ['LICI'] });
const IrdaiNumberSchema = Type.String({ minLength: 1, maxLength: 50, pattern: '^[A-Za-z0-9/ -]+$', description: 'IRDAI registration number of the insurer.', examples: ['512'] });
const ProviderNameSchema = TextSchema(200, { minLength: 2, description: 'Registered name.', examples: ['Life Insurance Corporation of India'] });

export const ProviderSchema = Type.Object(
  {
    id: UuidSchema,
    code: Type.String(),
    name: Type.String(),
    type: ProviderTypeSchema,
    status: ProviderStatusSchema,
    status_reason: nullable(Type.String()),
    irdai_registration_number: nullable(Type.String()),
    contact_email: nullable(Type.String()),
    contact_phone: nullable(PhoneSchema),
    created_at: TimestampSchema,
    updated_at: TimestampSchema,
  },
  { description: 'An insurer whose products agents sell.' },
);
export type Provider = Static<typeof ProviderSchema>;

export function toProviderResponse(row: ProviderRow): Provider {
  return {
    id: row.id,
    code: row.code,
    name: row.name,
    type: row.type,
    status: row.status,
    status_reason: row.status_reason,
    irdai_registration_number: row.irdai_registration_number,
    contact_email: row.contact_email,
    contact_phone: row.contact_phone,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

export const CreateProviderBodySchema = Type.Object(
  {
    code: CodeInputSchema,
    name: ProviderNameSchema,
    type: ProviderTypeSchema,
    irdai_registration_number: Type.Optional(IrdaiNumberSchema),
    contact_email: Type.Optional(EmailSchema),
    contact_phone: Type.Optional(PhoneInputSchema),
  },
  { ...closed, examples: [{ code: 'LICI', name: 'Life Insurance Corporation of India', type: 'life', irdai_registration_number: '512' }] },
);
export type CreateProviderBody = Static<typeof CreateProviderBodySchema>;

export const UpdateProviderBodySchema = Type.Object(
  {
    name: Type.Optional(ProviderNameSchema),
    irdai_registration_number: Type.Optional(nullable(IrdaiNumberSchema)),
    contact_email: Type.Optional(nullable(EmailSchema)),
    contact_phone: Type.Optional(nullable(PhoneInputSchema)),
  },
  { ...closed, minProperties: 1, description: 'Only the given fields change. Code and type are fixed: policy numbers and agent links depend on them.', examples: [{ contact_email: 'agents@insurer.example' }] },
);
export type UpdateProviderBody = Static<typeof UpdateProviderBodySchema>;

export const ProviderStatusBodySchema = Type.Object(
  { status: ProviderStatusSchema, reason: TextSchema(500, { description: 'Why; kept with the provider and in the audit trail.' }) },
  { ...closed, examples: [{ status: 'suspended', reason: 'IRDAI direction pending review' }] },
);
export type ProviderStatusBody = Static<typeof ProviderStatusBodySchema>;

export const PROVIDER_SORTS = ['name', 'code', 'created_at'] as const;
export const ProviderListQuerySchema = Type.Object(
  {
    q: Type.Optional(TextSchema(100, { description: 'Matches the name (anywhere) or the code (prefix), case-insensitive.' })),
    type: Type.Optional(ProviderTypeSchema),
    status: Type.Optional(ProviderStatusSchema),
    sort: Type.Optional(Type.String({ maxLength: 20, description: 'name (default), code or created_at; prefix - for descending.' })),
    ...PaginationQuerySchema,
  },
  closed,
);
export type ProviderListQuery = Static<typeof ProviderListQuerySchema>;


export const ProviderParamsSchema = Type.Object({ provider_id: UuidSchema }, closed);

// --- commission rules --------------------------------------------------------

const BasisPointsSchema = Type.Integer({ minimum: 0, maximum: 10_000, description: 'Basis points of the premium net of tax (1000 = 10%).' });

export const CommissionRuleSchema = Type.Object(
  {
    provider_id: UuidSchema,
    product_kind: nullable(ProductKindSchema),
    first_year_bp: Type.Integer(),
    renewal_bp: Type.Integer(),
    override_bp: nullable(Type.Integer()),
    updated_at: TimestampSchema,
    updated_by: nullable(UuidSchema),
  },
  { description: 'A commission schedule; product_kind null is the provider\'s default for kinds without their own.' },
);
export type CommissionRule = Static<typeof CommissionRuleSchema>;

export function toCommissionRuleResponse(row: CommissionRuleRow): CommissionRule {
  return {
    provider_id: row.provider_id,
    product_kind: row.product_kind,
    first_year_bp: row.first_year_bp,
    renewal_bp: row.renewal_bp,
    override_bp: row.override_bp,
    updated_at: toIso(row.updated_at),
    updated_by: row.updated_by,
  };
}

export const CommissionRuleQuerySchema = Type.Object(
  { product_kind: Type.Optional(ProductKindSchema) },
  { ...closed, description: 'Without product_kind: the default schedule. With it: that kind\'s own schedule, else the default.' },
);

export const CommissionRuleBodySchema = Type.Object(
  {
    first_year_bp: Type.Optional(BasisPointsSchema),
    renewal_bp: Type.Optional(BasisPointsSchema),
    override_bp: Type.Optional(nullable(BasisPointsSchema)),
    product_kind: Type.Optional(ProductKindSchema),
  },
  {
    ...closed,
    description: 'Sets the schedule of product_kind (body or query; none: the default). A new schedule needs first_year_bp and renewal_bp; an existing one changes only the given fields.',
    examples: [{ first_year_bp: 2500, renewal_bp: 500, override_bp: 200 }],
  },
);
export type CommissionRuleBody = Static<typeof CommissionRuleBodySchema>;

// --- agent links and metrics -------------------------------------------------

export const LinkAgentBodySchema = Type.Object({ agent_id: UuidSchema }, { ...closed, examples: [{ agent_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12' }] });

export const AgentLinkSchema = Type.Object({
  agent_id: UuidSchema,
  provider_id: UuidSchema,
  provider_type: ProviderTypeSchema,
  created_at: TimestampSchema,
});

export const ProviderAgentSchema = Type.Object({
  agent_id: UuidSchema,
  agent_code: nullable(Type.String()),
  full_name: Type.String(),
  status: Type.Enum(AGENT_STATUSES),
  region_id: nullable(UuidSchema),
  linked_at: TimestampSchema,
});
export type ProviderAgent = Static<typeof ProviderAgentSchema>;

export const ProviderAgentsQuerySchema = Type.Object(
  { status: Type.Optional(Type.Enum(AGENT_STATUSES)), ...PaginationQuerySchema },
  closed,
);

const countsOf = (keys: readonly string[]) => Type.Object(Object.fromEntries(keys.map((key) => [key, Type.Integer({ minimum: 0 })])));

export const ProviderMetricsSchema = Type.Object({
  provider_id: UuidSchema,
  agents_by_status: countsOf(AGENT_STATUSES),
  policies_by_status: countsOf(POLICY_STATUSES),
  premium_in_force_paise: Type.Integer({ description: 'Sum of annualized_total_paise over active policies.' }),
  lapse_ratio: nullable(Type.Number({ minimum: 0, maximum: 1, description: 'lapsed / (active + lapsed); null with neither.' })),
});
export type ProviderMetrics = Static<typeof ProviderMetricsSchema>;
