import type { Selectable } from 'kysely';
import { Type, type Static, type TSchema } from 'typebox';
import { PREMIUM_MODES, type ProductsTable } from '../../db/types.js';
import { toIso } from '../../shared/clock.js';
import { PaginationQuerySchema, PaiseSchema, TextSchema, TimestampSchema, UuidSchema } from '../../shared/schemas.js';
import type { RatingRules } from '../policies/premium.js';
import { CodeInputSchema, ProductKindSchema } from './providers.schemas.js';

export type ProductRow = Selectable<ProductsTable>;

const closed = { additionalProperties: false } as const;
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const PRODUCT_STATUSES = ['active', 'inactive'] as const;
const AgeSchema = Type.Integer({ minimum: 0, maximum: 150 });
const TermSchema = Type.Integer({ minimum: 0, maximum: 100, description: 'Whole years.' });
const PremiumModeSchema = Type.Enum(PREMIUM_MODES);
const ModalFactorSchema = Type.String({ maxLength: 12, pattern: '^[0-9]{1,2}(\\.[0-9]{1,8})?$', description: 'Decimal string, above 0 and at most 1.5.', examples: ['0.0875'] });

export const RateBandSchema = Type.Object(
  {
    min_age: AgeSchema,
    max_age: AgeSchema,
    rate_per_thousand_paise: Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'Annual premium per ₹1,000 of sum assured, in paise.' }),
  },
  closed,
);

const ModalFactorsSchema = Type.Object(
  Object.fromEntries(PREMIUM_MODES.map((mode) => [mode, Type.Optional(ModalFactorSchema)])),
  { ...closed, description: 'Per-mode factors overriding the defaults (annual 1.00, half_yearly 0.51, quarterly 0.26, monthly 0.0875).' },
);

/** The rating rules as the client sends them; contradictions are judged by validateRatingRules, not here. */
const ruleFields = {
  kind: ProductKindSchema,
  min_entry_age: AgeSchema,
  max_entry_age: AgeSchema,
  max_maturity_age: AgeSchema,
  min_sum_assured_paise: PaiseSchema,
  max_sum_assured_paise: PaiseSchema,
  min_term_years: TermSchema,
  max_term_years: TermSchema,
  premium_modes: Type.Array(PremiumModeSchema, { maxItems: 8 }),
  rate_table: Type.Array(RateBandSchema, { maxItems: 151 }),
};
const identityFields = {
  code: CodeInputSchema,
  name: TextSchema(200, { minLength: 2, examples: ['Jeevan Term 20'] }),
};

export const CreateProductBodySchema = Type.Object(
  {
    ...identityFields,
    ...ruleFields,
    tax_rate_bp: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 10_000, description: 'Overrides the tax table; null: the table decides.' }))),
    modal_factors: Type.Optional(nullable(ModalFactorsSchema)),
  },
  {
    ...closed,
    examples: [{
      code: 'TERM20', name: 'Term Shield 20', kind: 'term', min_entry_age: 18, max_entry_age: 60, max_maturity_age: 85,
      min_sum_assured_paise: 50_000_000, max_sum_assured_paise: 1_000_000_000, min_term_years: 5, max_term_years: 25,
      premium_modes: ['annual', 'monthly'], rate_table: [{ min_age: 18, max_age: 40, rate_per_thousand_paise: 150 }, { min_age: 41, max_age: 60, rate_per_thousand_paise: 420 }], tax_rate_bp: null,
    }],
  },
);
export type CreateProductBody = Static<typeof CreateProductBodySchema>;

export const UpdateProductBodySchema = Type.Partial(Type.Object({
  name: identityFields.name,
  status: Type.Enum(PRODUCT_STATUSES),
  ...ruleFields,
  tax_rate_bp: nullable(Type.Integer({ minimum: 0, maximum: 10_000 })),
  modal_factors: nullable(ModalFactorsSchema),
}), { ...closed, minProperties: 1, description: 'Only the given fields change; the merged rules must still be consistent. The code is fixed.' });
export type UpdateProductBody = Static<typeof UpdateProductBodySchema>;

export const ProductSchema = Type.Object({
  id: UuidSchema,
  provider_id: UuidSchema,
  code: Type.String(),
  name: Type.String(),
  kind: ProductKindSchema,
  status: Type.Enum(PRODUCT_STATUSES),
  min_entry_age: Type.Integer(),
  max_entry_age: Type.Integer(),
  max_maturity_age: Type.Integer(),
  min_sum_assured_paise: Type.Integer(),
  max_sum_assured_paise: Type.Integer(),
  min_term_years: Type.Integer(),
  max_term_years: Type.Integer(),
  premium_modes: Type.Array(PremiumModeSchema),
  rate_table: Type.Array(Type.Object({ min_age: Type.Integer(), max_age: Type.Integer(), rate_per_thousand_paise: Type.Integer() })),
  tax_rate_bp: nullable(Type.Integer()),
  modal_factors: nullable(Type.Record(Type.String(), Type.String())),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
}, { description: 'A product with the rating rules its premiums follow.' });
export type Product = Static<typeof ProductSchema>;

/** The rules validateRatingRules judges, taken from a stored product. */
export function ratingRulesOf(row: ProductRow): Required<RatingRules> {
  return {
    kind: row.kind,
    min_entry_age: row.min_entry_age,
    max_entry_age: row.max_entry_age,
    max_maturity_age: row.max_maturity_age,
    min_sum_assured_paise: row.min_sum_assured_paise,
    max_sum_assured_paise: row.max_sum_assured_paise,
    min_term_years: row.min_term_years,
    max_term_years: row.max_term_years,
    premium_modes: row.premium_modes,
    modal_factors: row.modal_factors,
    rate_table: row.rate_table,
    tax_rate_bp: row.tax_rate_bp,
  };
}

export function toProductResponse(row: ProductRow): Product {
  return {
    id: row.id,
    provider_id: row.provider_id,
    code: row.code,
    name: row.name,
    status: row.status,
    ...ratingRulesOf(row),
    // The engine's factor type is narrower than the wire's; the values are the same decimal strings.
    modal_factors: row.modal_factors as Record<string, string> | null,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
  };
}

export const ProductListQuerySchema = Type.Object(
  { kind: Type.Optional(ProductKindSchema), status: Type.Optional(Type.Enum(PRODUCT_STATUSES)), ...PaginationQuerySchema },
  closed,
);
export type ProductListQuery = Static<typeof ProductListQuerySchema>;

export const ProductParamsSchema = Type.Object({ provider_id: UuidSchema, product_id: UuidSchema }, closed);
