/**
 * Premium engine: eligibility, age, tax and instalment premium of a product.
 *
 * Pure: no I/O and no clock; every date is passed in as `YYYY-MM-DD`.
 * Money is integer paise, computed on BigInt (see shared/money.ts) and rounded
 * half-up to the paise at each step DOMAIN.md names: base annual, instalment, tax.
 *
 * Age convention (age nearer birthday at the start date):
 * - A birthday in a given year is the date of birth moved by whole years and
 *   clamped to the month end, so a 29 Feb birthday falls on 28 Feb in common years.
 * - "6 months past the last birthday" is the last birthday moved by 6 calendar
 *   months, clamped to the month end (31 Aug -> 28/29 Feb, 31 Mar -> 30 Sep,
 *   28 Feb of a common year -> 28 Aug). On that date and after, the next age counts.
 */
import {
  applyBasisPoints,
  compareDecimals,
  divideRoundHalfUp,
  isDecimalString,
  multiplyByDecimal,
  parseDecimal,
  toBigInt,
  toSafeInteger,
} from '../../shared/money.js';

export const PREMIUM_MODES = ['annual', 'half_yearly', 'quarterly', 'monthly'] as const;
export type PremiumMode = (typeof PREMIUM_MODES)[number];

export const INSTALMENTS_PER_YEAR: Readonly<Record<PremiumMode, number>> = Object.freeze({
  annual: 1,
  half_yearly: 2,
  quarterly: 4,
  monthly: 12,
});

// Strings, not numbers: 0.0875 has no exact binary representation.
export const DEFAULT_MODAL_FACTORS: Readonly<Record<PremiumMode, string>> = Object.freeze({
  annual: '1.00',
  half_yearly: '0.51',
  quarterly: '0.26',
  monthly: '0.0875',
});

export const PRODUCT_KINDS = ['term', 'endowment', 'health'] as const;
export type ProductKind = (typeof PRODUCT_KINDS)[number];
export type Business = 'individual' | 'group';

export interface RateBand {
  min_age: number;
  max_age: number;
  rate_per_thousand_paise: number;
}

export interface RatingRules {
  kind: ProductKind;
  min_entry_age: number;
  max_entry_age: number;
  max_maturity_age: number;
  min_sum_assured_paise: number;
  max_sum_assured_paise: number;
  min_term_years: number;
  max_term_years: number;
  premium_modes: PremiumMode[];
  modal_factors?: Partial<Record<PremiumMode, string>> | null;
  rate_table: RateBand[];
  tax_rate_bp?: number | null;
}

export interface QuoteInput {
  date_of_birth: string;
  start_date: string;
  sum_assured_paise: number;
  term_years: number;
  premium_mode: PremiumMode;
  business?: Business;
  policy_year?: number;
}

export interface PremiumBreakdown {
  age: number;
  base_annual_paise: number;
  modal_factor: number;
  installment_paise: number;
  tax_rate_bp: number;
  tax_paise: number;
  total_installment_paise: number;
  instalments_per_year: number;
  annualized_total_paise: number;
}

export interface RuleViolation {
  rule: string;
  message: string;
  path: string;
}

/** Every rule code this module can report; `RuleViolation.rule` is always one of these. */
export type RuleCode =
  | 'INVALID_DATE'
  | 'DATE_OF_BIRTH_AFTER_START_DATE'
  | 'ENTRY_AGE_BELOW_MIN'
  | 'ENTRY_AGE_ABOVE_MAX'
  | 'NO_RATE_FOR_AGE'
  | 'MATURITY_AGE_EXCEEDED'
  | 'INVALID_SUM_ASSURED'
  | 'SUM_ASSURED_BELOW_MIN'
  | 'SUM_ASSURED_ABOVE_MAX'
  | 'INVALID_TERM'
  | 'TERM_BELOW_MIN'
  | 'TERM_ABOVE_MAX'
  | 'PREMIUM_MODE_NOT_ALLOWED'
  | 'INVALID_BUSINESS'
  | 'INVALID_POLICY_YEAR'
  | 'POLICY_YEAR_AFTER_TERM'
  | 'PREMIUM_TOO_LARGE'
  // Product rule contradictions (validateRatingRules):
  | 'UNKNOWN_KIND'
  | 'INVALID_INTEGER'
  | 'ENTRY_AGE_RANGE_INVERTED'
  | 'SUM_ASSURED_RANGE_INVERTED'
  | 'TERM_RANGE_INVERTED'
  | 'MATURITY_AGE_TOO_LOW'
  | 'RATE_TABLE_EMPTY'
  | 'RATE_BAND_INVERTED'
  | 'RATE_NOT_POSITIVE'
  | 'RATE_BANDS_OVERLAP'
  | 'RATE_BANDS_GAP'
  | 'RATE_TABLE_NOT_COVERING_ENTRY_AGES'
  | 'PREMIUM_MODES_EMPTY'
  | 'PREMIUM_MODE_UNKNOWN'
  | 'PREMIUM_MODE_DUPLICATE'
  | 'MODAL_FACTOR_UNKNOWN_MODE'
  | 'MODAL_FACTOR_INVALID'
  | 'TAX_RATE_OUT_OF_RANGE';

/** Thrown by computePremium when the input breaks the product's rules; maps to a 422. */
export class PremiumError extends Error {
  override readonly name = 'PremiumError';
  readonly code = 'PREMIUM_RULES_VIOLATED';
  readonly violations: readonly RuleViolation[];

  constructor(violations: readonly RuleViolation[]) {
    super(violations.map((v) => `${v.rule} at ${v.path}: ${v.message}`).join('; '));
    this.violations = violations;
  }
}

function violation(rule: RuleCode, path: string, message: string): RuleViolation {
  return { rule, path, message };
}

// ---------------------------------------------------------------------------
// Calendar dates (plain y/m/d arithmetic: JS Date would drag time zones in)
// ---------------------------------------------------------------------------

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const ISO_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function readIsoDate(text: unknown): CalendarDate | null {
  if (typeof text !== 'string') return null;
  const match = ISO_DATE_PATTERN.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return { year, month, day };
}

function parseIsoDate(text: string, label: string): CalendarDate {
  const date = readIsoDate(text);
  if (!date) throw new RangeError(`${label} must be a calendar date YYYY-MM-DD, got ${JSON.stringify(text)}`);
  return date;
}

// A single comparable number: later dates are larger.
function dateOrdinal(date: CalendarDate): number {
  return date.year * 10_000 + date.month * 100 + date.day;
}

function addMonthsClamped(date: CalendarDate, months: number): CalendarDate {
  const monthIndex = date.year * 12 + (date.month - 1) + months;
  const year = Math.floor(monthIndex / 12);
  const month = (monthIndex % 12) + 1;
  return { year, month, day: Math.min(date.day, daysInMonth(year, month)) };
}

function completedYears(birth: CalendarDate, on: CalendarDate): number {
  const years = on.year - birth.year;
  const birthdayThisYear = addMonthsClamped(birth, 12 * years);
  return dateOrdinal(on) >= dateOrdinal(birthdayThisYear) ? years : years - 1;
}

/** Age nearer birthday on `onDate` (see the module comment for month-end and 29 Feb rules). */
export function ageNearerBirthday(dateOfBirth: string, onDate: string): number {
  const birth = parseIsoDate(dateOfBirth, 'date_of_birth');
  const on = parseIsoDate(onDate, 'onDate');
  if (dateOrdinal(on) < dateOrdinal(birth)) {
    throw new RangeError(`onDate ${onDate} is before the date of birth ${dateOfBirth}`);
  }
  const completed = completedYears(birth, on);
  const lastBirthday = addMonthsClamped(birth, 12 * completed);
  const halfYearMark = addMonthsClamped(lastBirthday, 6);
  return dateOrdinal(on) >= dateOrdinal(halfYearMark) ? completed + 1 : completed;
}

// ---------------------------------------------------------------------------
// Tax
// ---------------------------------------------------------------------------

export interface TaxTableEntry {
  /** First start date (inclusive) the row applies to. */
  effective_from: string;
  business: Business;
  kinds: readonly ProductKind[];
  first_year_bp: number;
  renewal_bp: number;
}

// Rows are looked up by the latest effective_from on or before the start date, so a
// change in the law is one appended row. '0001-01-01' means "since before this platform".
export const TAX_TABLE: readonly TaxTableEntry[] = Object.freeze([
  { effective_from: '0001-01-01', business: 'individual', kinds: ['term'], first_year_bp: 1800, renewal_bp: 1800 },
  { effective_from: '0001-01-01', business: 'individual', kinds: ['endowment'], first_year_bp: 450, renewal_bp: 225 },
  { effective_from: '0001-01-01', business: 'individual', kinds: ['health'], first_year_bp: 1800, renewal_bp: 1800 },
  { effective_from: '0001-01-01', business: 'group', kinds: ['term', 'endowment', 'health'], first_year_bp: 1800, renewal_bp: 1800 },
  // GST exemption of individual life and health insurance (GST Council, 56th meeting).
  { effective_from: '2025-09-22', business: 'individual', kinds: ['term', 'endowment', 'health'], first_year_bp: 0, renewal_bp: 0 },
]);

function assertBasisPoints(value: number, label: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 10_000) {
    throw new RangeError(`${label} must be an integer 0..10000 basis points, got ${value}`);
  }
  return value;
}

/**
 * Tax rate in basis points. `startDate` is the date the tax is judged at: the
 * policy start date for a quote (a caller may pass an instalment's due date).
 * A product override (`overrideBp` not null/undefined) wins over the table.
 */
export function taxRateBp(
  kind: ProductKind,
  startDate: string,
  business: Business,
  policyYear: number,
  overrideBp?: number | null,
): number {
  parseIsoDate(startDate, 'startDate');
  if (!Number.isInteger(policyYear) || policyYear < 1) {
    throw new RangeError(`policyYear must be an integer >= 1, got ${policyYear}`);
  }
  if (overrideBp !== null && overrideBp !== undefined) return assertBasisPoints(overrideBp, 'tax_rate_bp');
  const entry = findTaxEntry(kind, startDate, business);
  return policyYear === 1 ? entry.first_year_bp : entry.renewal_bp;
}

function findTaxEntry(kind: ProductKind, startDate: string, business: Business): TaxTableEntry {
  let best: TaxTableEntry | undefined;
  for (const entry of TAX_TABLE) {
    // YYYY-MM-DD strings order the same as the dates they name.
    const applies = entry.business === business && entry.kinds.includes(kind) && entry.effective_from <= startDate;
    if (applies && (!best || entry.effective_from > best.effective_from)) best = entry;
  }
  if (!best) throw new RangeError(`No tax rule for ${business} ${kind} business on ${startDate}`);
  return best;
}

// ---------------------------------------------------------------------------
// Eligibility
// ---------------------------------------------------------------------------

function isPositiveSafeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function findRateBand(rateTable: readonly RateBand[], age: number): RateBand | undefined {
  return rateTable.find((band) => band.min_age <= age && age <= band.max_age);
}

/** Every rule the input breaks (not just the first), each naming the request field. */
export function checkEligibility(rules: RatingRules, input: QuoteInput): RuleViolation[] {
  const { age, violations: ageViolations } = checkEntryAge(rules, input);
  return [
    ...ageViolations,
    ...checkSumAssured(rules, input.sum_assured_paise),
    ...checkTerm(rules, input.term_years),
    ...checkMaturity(rules, age, input.term_years),
    ...checkPremiumMode(rules, input.premium_mode),
    ...checkBusinessAndYear(input),
  ];
}

function checkEntryAge(rules: RatingRules, input: QuoteInput): { age: number | null; violations: RuleViolation[] } {
  const birth = readIsoDate(input.date_of_birth);
  const start = readIsoDate(input.start_date);
  const violations: RuleViolation[] = [];
  if (!birth) violations.push(violation('INVALID_DATE', '/date_of_birth', 'Date of birth must be a calendar date YYYY-MM-DD'));
  if (!start) violations.push(violation('INVALID_DATE', '/start_date', 'Start date must be a calendar date YYYY-MM-DD'));
  if (!birth || !start) return { age: null, violations };
  if (dateOrdinal(birth) > dateOrdinal(start)) {
    violations.push(violation('DATE_OF_BIRTH_AFTER_START_DATE', '/date_of_birth', 'Date of birth is after the start date'));
    return { age: null, violations };
  }
  const age = ageNearerBirthday(input.date_of_birth, input.start_date);
  if (age < rules.min_entry_age) {
    violations.push(violation('ENTRY_AGE_BELOW_MIN', '/date_of_birth', `Entry age ${age} is below the minimum of ${rules.min_entry_age}`));
  } else if (age > rules.max_entry_age) {
    violations.push(violation('ENTRY_AGE_ABOVE_MAX', '/date_of_birth', `Entry age ${age} is above the maximum of ${rules.max_entry_age}`));
  } else if (!findRateBand(rules.rate_table, age)) {
    // Only meaningful inside the entry ages: outside them the age rule already says why.
    violations.push(violation('NO_RATE_FOR_AGE', '/date_of_birth', `The product has no premium rate for age ${age}`));
  }
  return { age, violations };
}

function checkSumAssured(rules: RatingRules, sumAssured: number): RuleViolation[] {
  const path = '/sum_assured_paise';
  if (!isPositiveSafeInteger(sumAssured)) {
    return [violation('INVALID_SUM_ASSURED', path, 'Sum assured must be a positive whole number of paise')];
  }
  if (sumAssured < rules.min_sum_assured_paise) {
    return [violation('SUM_ASSURED_BELOW_MIN', path, `Sum assured ${sumAssured} paise is below the minimum of ${rules.min_sum_assured_paise} paise`)];
  }
  if (sumAssured > rules.max_sum_assured_paise) {
    return [violation('SUM_ASSURED_ABOVE_MAX', path, `Sum assured ${sumAssured} paise is above the maximum of ${rules.max_sum_assured_paise} paise`)];
  }
  return [];
}

function checkTerm(rules: RatingRules, termYears: number): RuleViolation[] {
  const path = '/term_years';
  if (!isPositiveSafeInteger(termYears)) {
    return [violation('INVALID_TERM', path, 'Term must be a positive whole number of years')];
  }
  if (termYears < rules.min_term_years) {
    return [violation('TERM_BELOW_MIN', path, `Term ${termYears} years is below the minimum of ${rules.min_term_years}`)];
  }
  if (termYears > rules.max_term_years) {
    return [violation('TERM_ABOVE_MAX', path, `Term ${termYears} years is above the maximum of ${rules.max_term_years}`)];
  }
  return [];
}

function checkMaturity(rules: RatingRules, age: number | null, termYears: number): RuleViolation[] {
  if (age === null || !isPositiveSafeInteger(termYears)) return [];
  if (age + termYears <= rules.max_maturity_age) return [];
  const message = `Age at maturity ${age + termYears} exceeds the maximum of ${rules.max_maturity_age}`;
  return [violation('MATURITY_AGE_EXCEEDED', '/term_years', message)];
}

function checkPremiumMode(rules: RatingRules, mode: PremiumMode): RuleViolation[] {
  if (rules.premium_modes.includes(mode)) return [];
  const allowed = rules.premium_modes.join(', ');
  return [violation('PREMIUM_MODE_NOT_ALLOWED', '/premium_mode', `Premium mode ${String(mode)} is not offered (allowed: ${allowed})`)];
}

function checkBusinessAndYear(input: QuoteInput): RuleViolation[] {
  const violations: RuleViolation[] = [];
  if (input.business !== undefined && input.business !== 'individual' && input.business !== 'group') {
    violations.push(violation('INVALID_BUSINESS', '/business', 'Business must be individual or group'));
  }
  const year = input.policy_year;
  if (year !== undefined && !isPositiveSafeInteger(year)) {
    violations.push(violation('INVALID_POLICY_YEAR', '/policy_year', 'Policy year must be a whole number >= 1'));
  } else if (year !== undefined && isPositiveSafeInteger(input.term_years) && year > input.term_years) {
    violations.push(violation('POLICY_YEAR_AFTER_TERM', '/policy_year', `Policy year ${year} is after the ${input.term_years}-year term`));
  }
  return violations;
}

// ---------------------------------------------------------------------------
// Premium
// ---------------------------------------------------------------------------

const MAX_MODAL_FACTOR = parseDecimal('1.5');
const ZERO = parseDecimal('0');
const PAISE_PER_THOUSAND_RUPEES = 100_000n;
const MAX_EXACT_PAISE = BigInt(Number.MAX_SAFE_INTEGER);

function isValidModalFactor(text: unknown): text is string {
  if (!isDecimalString(text)) return false;
  const factor = parseDecimal(text);
  return compareDecimals(factor, ZERO) > 0 && compareDecimals(factor, MAX_MODAL_FACTOR) <= 0;
}

function resolveModalFactor(rules: RatingRules, mode: PremiumMode): string {
  const factor = rules.modal_factors?.[mode] ?? DEFAULT_MODAL_FACTORS[mode];
  // A broken product is a data error, not the customer's: it surfaces as a RangeError (500).
  if (!isValidModalFactor(factor)) throw new RangeError(`Invalid modal factor for ${mode}: ${String(factor)}`);
  return factor;
}

/** The premium of one instalment and its annualized total; throws PremiumError when ineligible. */
export function computePremium(rules: RatingRules, input: QuoteInput): PremiumBreakdown {
  const violations = checkEligibility(rules, input);
  if (violations.length > 0) throw new PremiumError(violations);
  const age = ageNearerBirthday(input.date_of_birth, input.start_date);
  const band = findRateBand(rules.rate_table, age);
  if (!band) throw new RangeError(`No rate band for age ${age}`); // checkEligibility rules this out
  const factor = resolveModalFactor(rules, input.premium_mode);
  const business = input.business ?? 'individual';
  const taxBp = taxRateBp(rules.kind, input.start_date, business, input.policy_year ?? 1, rules.tax_rate_bp);

  const sumAssured = toBigInt(input.sum_assured_paise, 'sum_assured_paise');
  const rate = toBigInt(band.rate_per_thousand_paise, 'rate_per_thousand_paise');
  const base = divideRoundHalfUp(sumAssured * rate, PAISE_PER_THOUSAND_RUPEES);
  const installment = multiplyByDecimal(base, factor);
  const tax = applyBasisPoints(installment, taxBp);
  const total = installment + tax;
  const perYear = INSTALMENTS_PER_YEAR[input.premium_mode];
  // Every figure must stay an exact JavaScript number (below 2^53 paise, about ₹90 lakh crore); a product's
  // rules may allow a sum assured whose premium does not: the caller's to change, not a fault (a 500) of ours.
  if ([base, installment, total, total * BigInt(perYear)].some((paise) => paise > MAX_EXACT_PAISE)) {
    throw new PremiumError([violation('PREMIUM_TOO_LARGE', '/sum_assured_paise', 'The premium for this sum assured is too large to record; choose a smaller sum assured')]);
  }
  return {
    age,
    base_annual_paise: toSafeInteger(base, 'base_annual_paise'),
    modal_factor: Number(factor),
    installment_paise: toSafeInteger(installment, 'installment_paise'),
    tax_rate_bp: taxBp,
    tax_paise: toSafeInteger(tax, 'tax_paise'),
    total_installment_paise: toSafeInteger(total, 'total_installment_paise'),
    instalments_per_year: perYear,
    annualized_total_paise: toSafeInteger(total * BigInt(perYear), 'annualized_total_paise'),
  };
}

// ---------------------------------------------------------------------------
// Product rule validation
// ---------------------------------------------------------------------------

/** Contradictions and malformed values in a product's rules; empty when the rules are usable. */
export function validateRatingRules(rules: RatingRules): RuleViolation[] {
  const integerViolations = checkLimitIntegers(rules);
  // Order checks on malformed numbers would only repeat what INVALID_INTEGER says.
  const orderViolations = integerViolations.length === 0 ? checkLimitOrder(rules) : [];
  return [
    ...checkKind(rules),
    ...integerViolations,
    ...orderViolations,
    ...checkRateTable(rules),
    ...checkPremiumModes(rules.premium_modes),
    ...checkModalFactors(rules.modal_factors),
    ...checkTaxOverride(rules.tax_rate_bp),
  ];
}

function checkKind(rules: RatingRules): RuleViolation[] {
  if ((PRODUCT_KINDS as readonly string[]).includes(rules.kind)) return [];
  return [violation('UNKNOWN_KIND', '/kind', `Kind must be one of ${PRODUCT_KINDS.join(', ')}`)];
}

const NON_NEGATIVE_FIELDS = ['min_entry_age', 'max_entry_age', 'max_maturity_age'] as const;
const POSITIVE_FIELDS = ['min_sum_assured_paise', 'max_sum_assured_paise', 'min_term_years', 'max_term_years'] as const;

function checkLimitIntegers(rules: RatingRules): RuleViolation[] {
  const violations: RuleViolation[] = [];
  for (const field of NON_NEGATIVE_FIELDS) {
    const value = rules[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      violations.push(violation('INVALID_INTEGER', `/${field}`, `${field} must be a whole number >= 0`));
    }
  }
  for (const field of POSITIVE_FIELDS) {
    if (!isPositiveSafeInteger(rules[field])) {
      violations.push(violation('INVALID_INTEGER', `/${field}`, `${field} must be a whole number >= 1`));
    }
  }
  return violations;
}

function checkLimitOrder(rules: RatingRules): RuleViolation[] {
  const violations: RuleViolation[] = [];
  if (rules.min_entry_age > rules.max_entry_age) {
    violations.push(violation('ENTRY_AGE_RANGE_INVERTED', '/min_entry_age', 'min_entry_age is above max_entry_age'));
  }
  if (rules.min_sum_assured_paise > rules.max_sum_assured_paise) {
    violations.push(violation('SUM_ASSURED_RANGE_INVERTED', '/min_sum_assured_paise', 'min_sum_assured_paise is above max_sum_assured_paise'));
  }
  if (rules.min_term_years > rules.max_term_years) {
    violations.push(violation('TERM_RANGE_INVERTED', '/min_term_years', 'min_term_years is above max_term_years'));
  }
  if (rules.max_entry_age + rules.min_term_years > rules.max_maturity_age) {
    const message = `max_maturity_age ${rules.max_maturity_age} is below max_entry_age + min_term_years (${rules.max_entry_age + rules.min_term_years})`;
    violations.push(violation('MATURITY_AGE_TOO_LOW', '/max_maturity_age', message));
  }
  return violations;
}

function checkRateBand(band: RateBand, index: number): RuleViolation[] {
  const path = `/rate_table/${index}`;
  const violations: RuleViolation[] = [];
  for (const field of ['min_age', 'max_age'] as const) {
    if (!Number.isSafeInteger(band[field]) || band[field] < 0) {
      violations.push(violation('INVALID_INTEGER', `${path}/${field}`, `${field} must be a whole number >= 0`));
    }
  }
  if (violations.length === 0 && band.min_age > band.max_age) {
    violations.push(violation('RATE_BAND_INVERTED', `${path}/min_age`, 'min_age is above max_age'));
  }
  if (!isPositiveSafeInteger(band.rate_per_thousand_paise)) {
    violations.push(violation('RATE_NOT_POSITIVE', `${path}/rate_per_thousand_paise`, 'Rate must be a positive whole number of paise'));
  }
  return violations;
}

function checkRateTable(rules: RatingRules): RuleViolation[] {
  if (!Array.isArray(rules.rate_table) || rules.rate_table.length === 0) {
    return [violation('RATE_TABLE_EMPTY', '/rate_table', 'The rate table needs at least one age band')];
  }
  const violations = rules.rate_table.flatMap(checkRateBand);
  const usable = rules.rate_table
    .map((band, index) => ({ band, index }))
    .filter(({ band }) => Number.isSafeInteger(band.min_age) && Number.isSafeInteger(band.max_age) && band.min_age <= band.max_age)
    .sort((a, b) => a.band.min_age - b.band.min_age || a.index - b.index);
  return [...violations, ...checkBandSequence(usable), ...checkBandCoverage(rules, usable.map(({ band }) => band))];
}

// Bands sorted by min_age must each start exactly one year after the previous one ends.
function checkBandSequence(sorted: readonly { band: RateBand; index: number }[]): RuleViolation[] {
  const violations: RuleViolation[] = [];
  let coveredTo: number | null = null;
  for (const { band, index } of sorted) {
    const path = `/rate_table/${index}/min_age`;
    if (coveredTo !== null && band.min_age <= coveredTo) {
      violations.push(violation('RATE_BANDS_OVERLAP', path, `Band starting at ${band.min_age} overlaps ages up to ${coveredTo}`));
    } else if (coveredTo !== null && band.min_age > coveredTo + 1) {
      violations.push(violation('RATE_BANDS_GAP', path, `Ages ${coveredTo + 1}..${band.min_age - 1} have no rate`));
    }
    coveredTo = coveredTo === null ? band.max_age : Math.max(coveredTo, band.max_age);
  }
  return violations;
}

function checkBandCoverage(rules: RatingRules, bands: readonly RateBand[]): RuleViolation[] {
  if (bands.length === 0 || !Number.isSafeInteger(rules.min_entry_age) || !Number.isSafeInteger(rules.max_entry_age)) return [];
  const lowest = Math.min(...bands.map((band) => band.min_age));
  const highest = Math.max(...bands.map((band) => band.max_age));
  if (lowest <= rules.min_entry_age && highest >= rules.max_entry_age) return [];
  const message = `Rate bands cover ages ${lowest}..${highest} but entry ages are ${rules.min_entry_age}..${rules.max_entry_age}`;
  return [violation('RATE_TABLE_NOT_COVERING_ENTRY_AGES', '/rate_table', message)];
}

function checkPremiumModes(modes: readonly PremiumMode[]): RuleViolation[] {
  if (!Array.isArray(modes) || modes.length === 0) {
    return [violation('PREMIUM_MODES_EMPTY', '/premium_modes', 'At least one premium mode is required')];
  }
  const seen = new Set<string>();
  const violations: RuleViolation[] = [];
  modes.forEach((mode, index) => {
    const path = `/premium_modes/${index}`;
    if (!(PREMIUM_MODES as readonly string[]).includes(mode)) {
      violations.push(violation('PREMIUM_MODE_UNKNOWN', path, `Unknown premium mode ${String(mode)}`));
    } else if (seen.has(mode)) {
      violations.push(violation('PREMIUM_MODE_DUPLICATE', path, `Premium mode ${mode} is listed twice`));
    }
    seen.add(mode);
  });
  return violations;
}

function checkModalFactors(factors: RatingRules['modal_factors']): RuleViolation[] {
  if (factors === null || factors === undefined) return [];
  const violations: RuleViolation[] = [];
  for (const [mode, factor] of Object.entries(factors)) {
    const path = `/modal_factors/${mode}`;
    if (!(PREMIUM_MODES as readonly string[]).includes(mode)) {
      violations.push(violation('MODAL_FACTOR_UNKNOWN_MODE', path, `Unknown premium mode ${mode}`));
    } else if (!isValidModalFactor(factor)) {
      violations.push(violation('MODAL_FACTOR_INVALID', path, 'Modal factor must be a decimal string above 0 and at most 1.5'));
    }
  }
  return violations;
}

function checkTaxOverride(taxBp: number | null | undefined): RuleViolation[] {
  if (taxBp === null || taxBp === undefined) return [];
  if (Number.isInteger(taxBp) && taxBp >= 0 && taxBp <= 10_000) return [];
  return [violation('TAX_RATE_OUT_OF_RANGE', '/tax_rate_bp', 'tax_rate_bp must be a whole number 0..10000')];
}
