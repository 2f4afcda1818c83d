/**
 * The rules a sale must pass, gathered into one list so a refusal names every
 * broken rule at once: the product's rating rules (premium engine), the
 * product and provider being on sale, and the selling agent being allowed to
 * sell for that provider. The caller loads the rows; only the agents
 * module's selling rule reads for itself.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB, PremiumMode } from '../../db/types.js';
import { AppError, type ErrorCode, type FieldError } from '../../shared/errors.js';
import { assertCanSell } from '../agents/agents.selling.js';
import { ratingRulesOf } from '../providers/products.schemas.js';
import { checkEligibility, computePremium, type PremiumBreakdown, type RuleViolation } from './premium.js';
import type { ProductForSale, Seller } from './policies.repository.js';

export interface Terms {
  sum_assured_paise: number;
  term_years: number;
  premium_mode: PremiumMode;
}

export function availabilityViolations(product: ProductForSale): RuleViolation[] {
  const violations: RuleViolation[] = [];
  if (product.status !== 'active') violations.push({ rule: 'PRODUCT_NOT_ACTIVE', path: '/product_id', message: `Product ${product.code} is not on sale` });
  if (product.provider_status !== 'active') {
    violations.push({ rule: 'PROVIDER_NOT_ACTIVE', path: '/product_id', message: `Provider ${product.provider_code} is ${product.provider_status}` });
  }
  return violations;
}

/**
 * An agent sells only while active and licensed on `today` (the agents
 * module's rule, assertCanSell) and for a provider that appointed it. Its
 * refusal joins the list instead of cutting it short.
 */
export async function sellerViolations(
  db: Kysely<DB> | Transaction<DB>,
  seller: Seller,
  providerCode: string,
  today: string,
  path: string,
): Promise<RuleViolation[]> {
  const violations: RuleViolation[] = [];
  try {
    await assertCanSell(db, seller.id, today);
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 422) throw error;
    violations.push({ rule: 'AGENT_CANNOT_SELL', path: error.errors?.[0]?.path ?? path, message: error.detail });
  }
  if (!seller.represents_provider) {
    violations.push({ rule: 'AGENT_NOT_APPOINTED', path, message: `The selling agent does not represent provider ${providerCode}` });
  }
  return violations;
}

export interface Pricing {
  violations: RuleViolation[];
  breakdown: PremiumBreakdown | null;
}

/**
 * Prices a policy for a customer born on `dateOfBirth` starting on `startDate`.
 * The date of birth is the customer's, not a request field, so its rules point at /customer_id.
 */
export function pricePolicy(product: ProductForSale, dateOfBirth: string, terms: Terms, startDate: string): Pricing {
  const rules = ratingRulesOf(product);
  const input = { date_of_birth: dateOfBirth, start_date: startDate, ...pickTerms(terms) };
  const violations = checkEligibility(rules, input).map((v) => (v.path === '/date_of_birth' ? { ...v, path: '/customer_id' } : v));
  return { violations, breakdown: violations.length === 0 ? computePremium(rules, input) : null };
}

export function pickTerms(terms: Terms): Terms {
  return { sum_assured_paise: terms.sum_assured_paise, term_years: terms.term_years, premium_mode: terms.premium_mode };
}

/** Throws one 422 listing every broken rule; each message starts with the rule's code. */
export function assertNoViolations(violations: readonly RuleViolation[], code: ErrorCode = 'VALIDATION_FAILED'): void {
  if (violations.length === 0) return;
  const errors: FieldError[] = violations.map((v) => ({ path: v.path, message: `${v.rule}: ${v.message}` }));
  const rules = [...new Set(violations.map((v) => v.rule))].join(', ');
  throw new AppError(code, 422, `The policy breaks ${violations.length === 1 ? 'a rule' : `${violations.length} rules`}: ${rules}.`, { errors });
}

/** The breakdown as policy columns; the modal factor is stored as the exact decimal it was. */
export function premiumColumns(breakdown: PremiumBreakdown) {
  return {
    age_at_entry: breakdown.age,
    base_annual_paise: breakdown.base_annual_paise,
    modal_factor: String(breakdown.modal_factor),
    installment_paise: breakdown.installment_paise,
    tax_rate_bp: breakdown.tax_rate_bp,
    tax_paise: breakdown.tax_paise,
    total_installment_paise: breakdown.total_installment_paise,
    annualized_total_paise: breakdown.annualized_total_paise,
  };
}
