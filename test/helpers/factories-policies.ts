/**
 * Policy fixtures on top of the directory ones (factories-directory.ts):
 * the product of the premium engine's worked examples, commission schedules,
 * and policy rows in any status inserted straight into the table, so a test
 * can start a transition from any state.
 */
import type { Insertable } from 'kysely';
import type { PoliciesTable, PolicyStatus, PremiumMode, ProductKind } from '../../src/db/types.js';
import { newId } from '../../src/shared/ids.js';
import type { TestContext } from './app.js';
import { createProduct, type ProductRules } from './factories-directory.js';

let counter = 0;
const unique = () => {
  counter += 1;
  return `${String(process.pid % 1000).padStart(3, '0')}${counter}`;
};

/**
 * The term product of the premium engine's worked examples: entry 18..60,
 * maturity by 75, ₹1 lakh..₹100 crore, 5..40 years, every mode, rates
 * ₹12.50 (18..30), ₹24 (31..45), ₹51 (46..60) per ₹1,000. Returns its id.
 */
export async function createExampleProduct(
  ctx: TestContext,
  providerId: string,
  overrides: Partial<ProductRules> & { status?: 'active' | 'inactive' } = {},
): Promise<string> {
  const product = await createProduct(ctx, providerId, {
    max_maturity_age: 75, max_sum_assured_paise: 100_000_000_000, max_term_years: 40,
    rate_table: [
      { min_age: 18, max_age: 30, rate_per_thousand_paise: 1250 },
      { min_age: 31, max_age: 45, rate_per_thousand_paise: 2400 },
      { min_age: 46, max_age: 60, rate_per_thousand_paise: 5100 },
    ],
    ...overrides,
  });
  return product.id;
}

export async function insertCommissionRule(ctx: TestContext, providerId: string, rule: { kind?: ProductKind | null; first_year_bp: number; renewal_bp: number; override_bp?: number | null }): Promise<void> {
  await ctx.database.db.insertInto('commission_rules').values({
    id: newId(), provider_id: providerId, product_kind: rule.kind ?? null, first_year_bp: rule.first_year_bp, renewal_bp: rule.renewal_bp,
    override_bp: rule.override_bp ?? null, updated_by: null,
  }).execute();
}

export interface PolicyRowOptions {
  productId: string;
  providerId: string;
  customerId: string;
  agentId: string;
  createdBy: string;
  status?: PolicyStatus;
  premiumMode?: PremiumMode;
  issuedAt?: Date | null;
  statusChangedAt?: Date;
  createdAt?: Date;
}

/**
 * A policy row in any status, priced like the worked example (₹5 lakh, 20
 * years, age 30, annual ₹6,250, no tax). Issued statuses get a start date,
 * number and due dates so effects that read them work.
 */
export async function insertPolicy(ctx: TestContext, o: PolicyRowOptions): Promise<string> {
  const id = newId();
  const status = o.status ?? 'draft';
  const issued = ['active', 'lapsed', 'surrendered', 'matured', 'terminated'].includes(status) || (status === 'cancelled' && o.issuedAt);
  const now = ctx.clock.now();
  const values: Insertable<PoliciesTable> = {
    id, product_id: o.productId, provider_id: o.providerId, customer_id: o.customerId, agent_id: o.agentId, created_by: o.createdBy, status,
    sum_assured_paise: 50_000_000, term_years: 20, premium_mode: o.premiumMode ?? 'annual', age_at_entry: 30, base_annual_paise: 625_000,
    modal_factor: '1.00', installment_paise: 625_000, tax_rate_bp: 0, tax_paise: 0, total_installment_paise: 625_000, annualized_total_paise: 625_000,
    nominee: null, status_changed_at: o.statusChangedAt ?? now, created_at: o.createdAt ?? now, updated_at: now,
    ...(issued ? {
      policy_number: `FX-2026-${unique().padStart(9, '0')}`, issued_at: o.issuedAt ?? now, start_date: '2026-04-01', maturity_date: '2046-04-01',
      next_due_date: '2027-04-01', grace_end_date: '2027-05-01',
    } : {}),
  };
  await ctx.database.db.insertInto('policies').values(values).execute();
  return id;
}
