import type { Selectable } from 'kysely';
import { Type, type Static } from 'typebox';
import { POLICY_STATUSES, PREMIUM_MODES, type CommissionsTable, type PoliciesTable, type PolicyStatusHistoryTable } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { DateSchema, NameSchema, PaginationQuerySchema, TextSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';

export type PolicyRow = Selectable<PoliciesTable>;
export type PolicyHistoryRow = Selectable<PolicyStatusHistoryTable>;
export type CommissionRow = Selectable<CommissionsTable>;

const closed = { additionalProperties: false } as const;
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const PolicyStatusSchema = Type.Enum(POLICY_STATUSES, { description: 'draft → submitted → approved | rejected; approved → active (issued); active → lapsed | surrendered | matured | cancelled; lapsed → active | terminated; draft → cancelled.' });
export const PremiumModeSchema = Type.Enum(PREMIUM_MODES);
const SumAssuredSchema = Type.Integer({ minimum: 1, maximum: 1e13, description: 'Sum assured in integer paise (₹5 lakh = 50000000).', examples: [50_000_000] });
const TermYearsSchema = Type.Integer({ minimum: 1, maximum: 100, description: 'Policy term in whole years.', examples: [20] });
const Paise = (description: string) => Type.Integer({ description });

export const NomineeInputSchema = Type.Object(
  {
    name: NameSchema,
    relationship: TextSchema(40, { minLength: 2, description: 'How the nominee is related to the insured.', examples: ['spouse'] }),
    share_percent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 100, description: 'Share of the claim, percent; default 100.' })),
  },
  closed,
);
export type NomineeInput = Static<typeof NomineeInputSchema>;
const NomineeSchema = Type.Object({ name: Type.String(), relationship: Type.String(), share_percent: Type.Integer() });

const breakdownFields = {
  age: Type.Integer({ description: 'Age nearer birthday at the start date.' }),
  tax_rate_bp: Type.Integer({ description: 'Tax rate in basis points (1800 = 18%).' }),
  base_annual_paise: Paise('Annual premium before modal factor and tax: sum assured / 1000 × rate(age).'),
  modal_factor: Type.Number({ description: 'Factor of the premium mode (annual 1, half-yearly 0.51, quarterly 0.26, monthly 0.0875 unless the product says otherwise).' }),
  installment_paise: Paise('One instalment before tax.'),
  tax_paise: Paise('Tax on one instalment.'),
  total_installment_paise: Paise('One instalment with tax: what the customer pays each time.'),
  annualized_total_paise: Paise('total_installment_paise × instalments per year.'),
};
export const PremiumBreakdownSchema = Type.Object(breakdownFields, { description: 'A premium breakdown; every amount rounded half-up to the paise.' });

export const QuoteBodySchema = Type.Object(
  {
    product_id: UuidSchema,
    date_of_birth: DateSchema,
    sum_assured_paise: SumAssuredSchema,
    term_years: TermYearsSchema,
    premium_mode: PremiumModeSchema,
    start_date: Type.Optional(Type.String({ format: 'date', description: 'Date the cover would start, YYYY-MM-DD; default today (India).' })),
  },
  { ...closed, examples: [{ product_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12', date_of_birth: '1996-04-01', sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'monthly' }] },
);
export type QuoteBody = Static<typeof QuoteBodySchema>;

export const QuoteSchema = Type.Object({
  product_id: UuidSchema,
  start_date: DateSchema,
  sum_assured_paise: Type.Integer(),
  term_years: Type.Integer(),
  premium_mode: PremiumModeSchema,
  instalments_per_year: Type.Integer(),
  ...breakdownFields,
}, { description: 'The premium the product would charge; nothing is stored.' });
export type Quote = Static<typeof QuoteSchema>;

export const CreatePolicyBodySchema = Type.Object(
  {
    product_id: UuidSchema,
    customer_id: UuidSchema,
    sum_assured_paise: SumAssuredSchema,
    term_years: TermYearsSchema,
    premium_mode: PremiumModeSchema,
    nominee: Type.Optional(NomineeInputSchema),
  },
  { ...closed, examples: [{ product_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f12', customer_id: '01936f4e-7c1a-7d3e-9a51-2b4c6d8e0f13', sum_assured_paise: 50_000_000, term_years: 20, premium_mode: 'annual', nominee: { name: 'Ravi Verma', relationship: 'spouse' } }] },
);
export type CreatePolicyBody = Static<typeof CreatePolicyBodySchema>;

export const UpdatePolicyBodySchema = Type.Object(
  {
    sum_assured_paise: Type.Optional(SumAssuredSchema),
    term_years: Type.Optional(TermYearsSchema),
    premium_mode: Type.Optional(PremiumModeSchema),
    nominee: Type.Optional(nullable(NomineeInputSchema)),
  },
  { ...closed, minProperties: 1, description: 'Fields of a draft to change; the premium is recomputed.' },
);
export type UpdatePolicyBody = Static<typeof UpdatePolicyBodySchema>;

export const TransitionBodySchema = Type.Object(
  { to: PolicyStatusSchema, reason: Type.Optional(TextSchema(500, { description: 'Why; kept in the status history.' })) },
  { ...closed, examples: [{ to: 'submitted' }, { to: 'rejected', reason: 'Medical report missing' }] },
);
export type TransitionBody = Static<typeof TransitionBodySchema>;

export const RenewalBodySchema = Type.Object(
  { policy_year: Type.Integer({ minimum: 2, maximum: 100, description: 'The policy year whose renewal premium was paid (2 = the second year).' }) },
  closed,
);


export const PolicyListQuerySchema = Type.Object(
  {
    ...PaginationQuerySchema,
    sort: Type.Optional(Type.Enum(['created_at', '-created_at'], { default: '-created_at', description: 'Order by creation time; - for newest first (default).' })),
    status: Type.Optional(PolicyStatusSchema),
    provider_id: Type.Optional(UuidSchema),
    product_id: Type.Optional(UuidSchema),
    agent_id: Type.Optional(UuidSchema),
    customer_id: Type.Optional(UuidSchema),
    created_from: Type.Optional(Type.String({ format: 'date-time', description: 'Created at or after this instant (RFC 3339).' })),
    created_to: Type.Optional(Type.String({ format: 'date-time', description: 'Created before this instant (RFC 3339).' })),
  },
  closed,
);
export type PolicyListQuery = Static<typeof PolicyListQuerySchema>;

const StatusChangeSchema = Type.Object({
  from_status: nullable(PolicyStatusSchema),
  to_status: PolicyStatusSchema,
  reason: nullable(Type.String()),
  actor_id: nullable(UuidSchema),
  created_at: TimestampSchema,
});

const policyFields = {
  id: UuidSchema,
  policy_number: nullable(Type.String({ description: 'Assigned at issue: <PROVIDER_CODE>-<YYYY>-<8-digit sequence><Luhn digit>.', examples: ['LIC-2026-000001236'] })),
  status: PolicyStatusSchema,
  product_id: UuidSchema,
  provider_id: UuidSchema,
  customer_id: UuidSchema,
  agent_id: UuidSchema,
  created_by: UuidSchema,
  sum_assured_paise: Type.Integer(),
  term_years: Type.Integer(),
  premium_mode: PremiumModeSchema,
  premium: PremiumBreakdownSchema,
  nominee: nullable(NomineeSchema),
  start_date: nullable(DateSchema),
  maturity_date: nullable(DateSchema),
  issued_at: nullable(TimestampSchema),
  next_due_date: nullable(DateSchema),
  grace_end_date: nullable(DateSchema),
  status_changed_at: TimestampSchema,
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
  version: Type.Integer({ description: 'Bumped on every change; the ETag is W/"<version>".' }),
};
export const PolicySchema = Type.Object(policyFields, { description: 'A policy.' });
export type Policy = Static<typeof PolicySchema>;
export const PolicyDetailSchema = Type.Object(
  { ...policyFields, status_history: Type.Array(StatusChangeSchema, { description: 'Every status change, oldest first: who, when and why.' }) },
  { description: 'A policy with its status history.' },
);
export type PolicyDetail = Static<typeof PolicyDetailSchema>;

export const CommissionSchema = Type.Object({
  commission_id: UuidSchema,
  policy_id: UuidSchema,
  agent_id: UuidSchema,
  kind: Type.Enum(['first_year', 'renewal', 'override']),
  policy_year: Type.Integer(),
  basis_paise: Type.Integer({ description: 'Premium net of tax for the policy year.' }),
  rate_bp: Type.Integer(),
  amount_paise: Type.Integer(),
  status: Type.Enum(['earned', 'paid', 'clawed_back']),
  earned_at: TimestampSchema,
});
export type Commission = Static<typeof CommissionSchema>;
export const RenewalResultSchema = Type.Object({ policy_id: UuidSchema, policy_year: Type.Integer(), commissions: Type.Array(CommissionSchema) });
export type RenewalResult = Static<typeof RenewalResultSchema>;

/** A policy row as PolicySchema answers it. The policy list renders the same shape in SQL (policyFields, policies.repository.ts): change both. */
export function toPolicyResponse(row: PolicyRow): Policy {
  return {
    id: row.id,
    policy_number: row.policy_number,
    status: row.status,
    product_id: row.product_id,
    provider_id: row.provider_id,
    customer_id: row.customer_id,
    agent_id: row.agent_id,
    created_by: row.created_by,
    sum_assured_paise: row.sum_assured_paise,
    term_years: row.term_years,
    premium_mode: row.premium_mode,
    premium: {
      age: row.age_at_entry,
      tax_rate_bp: row.tax_rate_bp,
      base_annual_paise: row.base_annual_paise,
      modal_factor: Number(row.modal_factor),
      installment_paise: row.installment_paise,
      tax_paise: row.tax_paise,
      total_installment_paise: row.total_installment_paise,
      annualized_total_paise: row.annualized_total_paise,
    },
    nominee: row.nominee ? { name: row.nominee.name, relationship: row.nominee.relationship, share_percent: row.nominee.share_percent } : null,
    start_date: row.start_date,
    maturity_date: row.maturity_date,
    issued_at: row.issued_at ? toIso(row.issued_at) : null,
    next_due_date: row.next_due_date,
    grace_end_date: row.grace_end_date,
    status_changed_at: toIso(row.status_changed_at),
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    version: row.version,
  };
}

export function toPolicyDetail(row: PolicyRow, history: PolicyHistoryRow[]): PolicyDetail {
  return {
    ...toPolicyResponse(row),
    status_history: history.map((h) => ({ from_status: h.from_status, to_status: h.to_status, reason: h.reason, actor_id: h.actor_id, created_at: toIso(h.created_at) })),
  };
}

export function toCommissionResponse(row: CommissionRow): Commission {
  return {
    commission_id: row.id,
    policy_id: row.policy_id,
    agent_id: row.agent_id,
    kind: row.kind,
    policy_year: row.policy_year,
    basis_paise: row.basis_paise,
    rate_bp: row.rate_bp,
    amount_paise: row.amount_paise,
    status: row.status,
    earned_at: toIso(row.earned_at),
  };
}
