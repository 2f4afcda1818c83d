import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_MODAL_FACTORS,
  INSTALMENTS_PER_YEAR,
  PREMIUM_MODES,
  PremiumError,
  TAX_TABLE,
  ageNearerBirthday,
  checkEligibility,
  computePremium,
  taxRateBp,
  validateRatingRules,
  type PremiumMode,
  type QuoteInput,
  type RatingRules,
} from './premium.js';

// A term product: entry 18..60, maturity by 75, SA ₹1 lakh..₹100 crore, term 5..40 years.
const TERM: RatingRules = {
  kind: 'term',
  min_entry_age: 18,
  max_entry_age: 60,
  max_maturity_age: 75,
  min_sum_assured_paise: 10_000_000,
  max_sum_assured_paise: 100_000_000_000,
  min_term_years: 5,
  max_term_years: 40,
  premium_modes: ['annual', 'half_yearly', 'quarterly', 'monthly'],
  rate_table: [
    { min_age: 18, max_age: 30, rate_per_thousand_paise: 1250 },
    { min_age: 31, max_age: 45, rate_per_thousand_paise: 2400 },
    { min_age: 46, max_age: 60, rate_per_thousand_paise: 5100 },
  ],
  tax_rate_bp: null,
};
const ENDOWMENT: RatingRules = { ...TERM, kind: 'endowment' };
const HEALTH: RatingRules = { ...TERM, kind: 'health' };

// Age 30 exactly on the start date (rate band 18..30: 1250 paise per ₹1,000).
function quote(overrides: Partial<QuoteInput> = {}): QuoteInput {
  return {
    date_of_birth: '1996-04-01',
    start_date: '2026-04-01',
    sum_assured_paise: 50_000_000, // ₹5,00,000
    term_years: 20,
    premium_mode: 'annual',
    ...overrides,
  };
}

function dateOfBirthForAge(startDate: string, age: number): string {
  const year = Number(startDate.slice(0, 4)) - age;
  return `${String(year).padStart(4, '0')}${startDate.slice(4)}`;
}

describe('computePremium: worked examples', () => {
  it('monthly premium rounds a half-paise tie up', () => {
    // base = 50,000,000 × 1250 / 100,000 = 625,000 paise (₹6,250 a year)
    // monthly = 625,000 × 0.0875 = 54,687.5 -> 54,688 (half-up)
    // start 2026-04-01, individual term: GST exempt -> tax 0; annualized 54,688 × 12 = 656,256
    expect(computePremium(TERM, quote({ premium_mode: 'monthly' }))).toEqual({
      age: 30,
      base_annual_paise: 625_000,
      modal_factor: 0.0875,
      installment_paise: 54_688,
      tax_rate_bp: 0,
      tax_paise: 0,
      total_installment_paise: 54_688,
      instalments_per_year: 12,
      annualized_total_paise: 656_256,
    });
  });

  it('scales a ₹50 lakh cover at the same rate', () => {
    // base = 500,000,000 × 1250 / 100,000 = 6,250,000 (₹62,500 a year)
    // monthly = 6,250,000 × 0.0875 = 546,875 exactly; ×12 = 6,562,500
    const result = computePremium(TERM, quote({ sum_assured_paise: 500_000_000, premium_mode: 'monthly' }));
    expect(result.base_annual_paise).toBe(6_250_000);
    expect(result.installment_paise).toBe(546_875);
    expect(result.annualized_total_paise).toBe(6_562_500);
  });

  it('rounds a half-paise tie in the base premium up', () => {
    // base = 50,000,040 × 1250 / 100,000 = 625,000.5 -> 625,001
    const result = computePremium(TERM, quote({ sum_assured_paise: 50_000_040 }));
    expect(result.base_annual_paise).toBe(625_001);
    expect(result.total_installment_paise).toBe(625_001);
  });

  it('charges 18% on an individual term policy starting before 2025-09-22', () => {
    // annual: base 625,000; tax 625,000 × 18% = 112,500; total 737,500
    const annual = computePremium(TERM, quote({ date_of_birth: '1995-09-21', start_date: '2025-09-21' }));
    expect(annual).toMatchObject({ age: 30, installment_paise: 625_000, tax_rate_bp: 1800, tax_paise: 112_500, total_installment_paise: 737_500, annualized_total_paise: 737_500 });
    // monthly: 54,688; tax 54,688 × 18% = 9,843.84 -> 9,844; total 64,532; ×12 = 774,384
    const monthly = computePremium(TERM, quote({ date_of_birth: '1995-09-21', start_date: '2025-09-21', premium_mode: 'monthly' }));
    expect(monthly).toMatchObject({ installment_paise: 54_688, tax_paise: 9_844, total_installment_paise: 64_532, annualized_total_paise: 774_384 });
  });

  it('rounds a half-paise tie in the tax up', () => {
    // base = 80,002,000 × 1250 / 100,000 = 1,000,025; tax 1,000,025 × 18% = 180,004.5 -> 180,005
    const result = computePremium(TERM, quote({ sum_assured_paise: 80_002_000, date_of_birth: '1995-01-01', start_date: '2025-01-01' }));
    expect(result).toMatchObject({ base_annual_paise: 1_000_025, tax_paise: 180_005, total_installment_paise: 1_180_030 });
  });

  it('exempts individual term policies starting on 2025-09-22', () => {
    const result = computePremium(TERM, quote({ date_of_birth: '1995-09-22', start_date: '2025-09-22' }));
    expect(result).toMatchObject({ tax_rate_bp: 0, tax_paise: 0, total_installment_paise: 625_000 });
  });

  it('charges endowment 4.5% in year one and 2.25% on renewals before the exemption', () => {
    const input = quote({ date_of_birth: '1995-06-01', start_date: '2025-06-01', premium_mode: 'half_yearly' });
    // half-yearly = 625,000 × 0.51 = 318,750; tax 4.5% = 14,343.75 -> 14,344; total 333,094; ×2 = 666,188
    expect(computePremium(ENDOWMENT, input)).toMatchObject({
      installment_paise: 318_750, tax_rate_bp: 450, tax_paise: 14_344, total_installment_paise: 333_094, annualized_total_paise: 666_188,
    });
    // renewal: tax 2.25% = 7,171.875 -> 7,172; total 325,922; ×2 = 651,844
    expect(computePremium(ENDOWMENT, { ...input, policy_year: 2 })).toMatchObject({
      tax_rate_bp: 225, tax_paise: 7_172, total_installment_paise: 325_922, annualized_total_paise: 651_844,
    });
  });

  it('keeps group business at 18% after the individual exemption', () => {
    // quarterly = 625,000 × 0.26 = 162,500; tax 18% = 29,250; total 191,750; ×4 = 767,000
    const result = computePremium(TERM, quote({ premium_mode: 'quarterly', business: 'group' }));
    expect(result).toMatchObject({ installment_paise: 162_500, tax_rate_bp: 1800, tax_paise: 29_250, total_installment_paise: 191_750, annualized_total_paise: 767_000 });
  });

  it("applies the product's tax override, including an override of 0", () => {
    // 625,000 × 5% = 31,250; total 656,250
    expect(computePremium({ ...TERM, tax_rate_bp: 500 }, quote())).toMatchObject({ tax_rate_bp: 500, tax_paise: 31_250, total_installment_paise: 656_250 });
    // a pre-exemption start would be 18%, but the product says 0
    const preExemption = quote({ date_of_birth: '1995-01-01', start_date: '2025-01-01' });
    expect(computePremium({ ...TERM, tax_rate_bp: 0 }, preExemption)).toMatchObject({ tax_rate_bp: 0, tax_paise: 0 });
  });

  it("applies the product's modal factor override and keeps the defaults for other modes", () => {
    const rules: RatingRules = { ...TERM, modal_factors: { monthly: '0.09' } };
    // monthly = 625,000 × 0.09 = 56,250; quarterly keeps 0.26 -> 162,500
    expect(computePremium(rules, quote({ premium_mode: 'monthly' }))).toMatchObject({ modal_factor: 0.09, installment_paise: 56_250 });
    expect(computePremium(rules, quote({ premium_mode: 'quarterly' }))).toMatchObject({ modal_factor: 0.26, installment_paise: 162_500 });
  });

  it('rates by the band of the age nearer birthday', () => {
    // DOB 1995-10-01, start 2026-04-01: 30 completed, 6 months past -> age 31 -> rate 2400
    // base = 50,000,000 × 2400 / 100,000 = 1,200,000
    const result = computePremium(TERM, quote({ date_of_birth: '1995-10-01' }));
    expect(result).toMatchObject({ age: 31, base_annual_paise: 1_200_000 });
  });

  it('throws PremiumError carrying every violation when the input is not eligible', () => {
    const input = quote({ sum_assured_paise: 1, term_years: 1 });
    expect(() => computePremium(TERM, input)).toThrow(PremiumError);
    try {
      computePremium(TERM, input);
    } catch (error) {
      expect(error).toBeInstanceOf(PremiumError);
      expect((error as PremiumError).violations.map((v) => v.rule)).toEqual(['SUM_ASSURED_BELOW_MIN', 'TERM_BELOW_MIN']);
    }
  });

  it('refuses a premium too large to record exactly as the caller\'s to change (PREMIUM_TOO_LARGE), at the first figure past 2^53 paise', () => {
    // ₹1,000 crore per ₹1,000 of sum assured: base = SA × 1e11 / 1e5 = SA × 1e6 paise.
    const rules: RatingRules = { ...TERM, max_sum_assured_paise: 1e13, rate_table: [{ min_age: 18, max_age: 60, rate_per_thousand_paise: 100_000_000_000 }] };
    const largest = Math.floor(Number.MAX_SAFE_INTEGER / 1e6); // annual, no tax on term: base is every figure
    expect(computePremium(rules, quote({ sum_assured_paise: largest })).annualized_total_paise).toBe(largest * 1e6);
    const refused = (() => {
      try {
        computePremium(rules, quote({ sum_assured_paise: largest + 1 }));
      } catch (error) {
        return error;
      }
      return null;
    })();
    expect(refused).toBeInstanceOf(PremiumError);
    expect((refused as PremiumError).violations).toEqual([{ rule: 'PREMIUM_TOO_LARGE', path: '/sum_assured_paise', message: expect.stringMatching(/too large/) }]);
  });

  it('refuses a product whose modal factor is broken as a data error, not a customer error', () => {
    const rules: RatingRules = { ...TERM, modal_factors: { monthly: '0.0875e0' } };
    expect(() => computePremium(rules, quote({ premium_mode: 'monthly' }))).toThrow(RangeError);
  });
});

describe('ageNearerBirthday', () => {
  it.each<[dateOfBirth: string, onDate: string, age: number, why: string]>([
    ['1990-01-15', '2026-01-15', 36, 'on the birthday'],
    ['1990-01-15', '2026-07-14', 36, 'one day before 6 months past'],
    ['1990-01-15', '2026-07-15', 37, 'exactly 6 months past counts as the next age'],
    ['1990-01-15', '2027-01-14', 37, 'the day before the next birthday'],
    ['1990-08-31', '2026-02-27', 35, '31 Aug + 6 months clamps to 28 Feb; the day before'],
    ['1990-08-31', '2026-02-28', 36, '31 Aug + 6 months clamps to 28 Feb in a common year'],
    ['1990-08-31', '2024-02-28', 33, '31 Aug + 6 months is 29 Feb in a leap year; the day before'],
    ['1990-08-31', '2024-02-29', 34, '31 Aug + 6 months is 29 Feb in a leap year'],
    ['1990-03-31', '2025-09-29', 35, '31 Mar + 6 months clamps to 30 Sep; the day before'],
    ['1990-03-31', '2025-09-30', 36, '31 Mar + 6 months clamps to 30 Sep'],
    ['1990-12-31', '2026-06-29', 35, '31 Dec + 6 months clamps to 30 Jun; the day before'],
    ['1990-12-31', '2026-06-30', 36, '31 Dec + 6 months clamps to 30 Jun'],
    ['2000-02-29', '2023-02-27', 23, '29 Feb: last birthday 28 Feb 2022, 6 months past on 28 Aug 2022'],
    ['2000-02-29', '2023-02-28', 23, '29 Feb: the birthday is 28 Feb in a common year'],
    ['2000-02-29', '2023-08-27', 23, '29 Feb: last birthday 28 Feb 2023, one day before 28 Aug'],
    ['2000-02-29', '2023-08-28', 24, '29 Feb: last birthday 28 Feb 2023 + 6 months = 28 Aug'],
    ['2000-02-29', '2024-08-28', 24, '29 Feb: last birthday 29 Feb 2024, one day before 29 Aug'],
    ['2000-02-29', '2024-08-29', 25, '29 Feb: last birthday 29 Feb 2024 + 6 months = 29 Aug'],
    ['2026-04-01', '2026-04-01', 0, 'born on the start date'],
  ])('%s on %s is %i (%s)', (dateOfBirth, onDate, age) => {
    expect(ageNearerBirthday(dateOfBirth, onDate)).toBe(age);
  });

  it('refuses impossible dates and a date before birth', () => {
    expect(() => ageNearerBirthday('2001-02-29', '2026-01-01')).toThrow(RangeError);
    expect(() => ageNearerBirthday('1990-13-01', '2026-01-01')).toThrow(RangeError);
    expect(() => ageNearerBirthday('1990-1-1', '2026-01-01')).toThrow(RangeError);
    expect(() => ageNearerBirthday('2026-01-02', '2026-01-01')).toThrow(RangeError);
  });

  it('never decreases and steps by at most one year per day (property)', () => {
    const dayMs = 86_400_000;
    const toIso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    const epochDay = fc.integer({ min: Date.UTC(1920, 0, 1) / dayMs, max: Date.UTC(2090, 0, 1) / dayMs });
    fc.assert(
      fc.property(epochDay, fc.integer({ min: 0, max: 40_000 }), (birthDay, daysLived) => {
        const birth = toIso(birthDay * dayMs);
        const today = ageNearerBirthday(birth, toIso((birthDay + daysLived) * dayMs));
        const tomorrow = ageNearerBirthday(birth, toIso((birthDay + daysLived + 1) * dayMs));
        expect(tomorrow - today === 0 || tomorrow - today === 1).toBe(true);
        // Age nearer birthday is within half a year of the exact age.
        expect(Math.abs(today - daysLived / 365.2425)).toBeLessThanOrEqual(0.51);
      }),
    );
  });
});

describe('taxRateBp', () => {
  it.each([
    ['term', '2025-09-21', 'individual', 1, 1800],
    ['term', '2025-09-21', 'individual', 3, 1800],
    ['endowment', '2025-09-21', 'individual', 1, 450],
    ['endowment', '2025-09-21', 'individual', 2, 225],
    ['health', '2025-09-21', 'individual', 1, 1800],
    ['term', '2025-09-22', 'individual', 1, 0],
    ['endowment', '2025-09-22', 'individual', 1, 0],
    ['endowment', '2025-09-22', 'individual', 2, 0],
    ['health', '2030-01-01', 'individual', 1, 0],
    ['term', '2025-09-21', 'group', 1, 1800],
    ['endowment', '2026-04-01', 'group', 2, 1800],
    ['health', '2026-04-01', 'group', 1, 1800],
  ] as const)('%s starting %s, %s, year %i: %i bp', (kind, startDate, business, year, expected) => {
    expect(taxRateBp(kind, startDate, business, year)).toBe(expected);
  });

  it('lets the product override win whenever it is set', () => {
    expect(taxRateBp('term', '2025-01-01', 'individual', 1, 0)).toBe(0);
    expect(taxRateBp('health', '2026-01-01', 'group', 1, 500)).toBe(500);
    expect(taxRateBp('term', '2025-01-01', 'individual', 1, null)).toBe(1800);
  });

  it('refuses bad dates, policy years and override rates', () => {
    expect(() => taxRateBp('term', '2025-02-30', 'individual', 1)).toThrow(RangeError);
    expect(() => taxRateBp('term', '2025-01-01', 'individual', 0)).toThrow(RangeError);
    expect(() => taxRateBp('term', '2025-01-01', 'individual', 1, 10_001)).toThrow(RangeError);
    expect(() => taxRateBp('term', '2025-01-01', 'individual', 1, 12.5)).toThrow(RangeError);
  });

  it('has one row at most per date, business and kind, so lookups are unambiguous', () => {
    const keys = TAX_TABLE.flatMap((row) => row.kinds.map((kind) => `${row.effective_from}|${row.business}|${kind}`));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('checkEligibility', () => {
  it('accepts an input inside every limit', () => {
    expect(checkEligibility(TERM, quote())).toEqual([]);
  });

  it('reports every broken rule at once, each at its request field', () => {
    const rules: RatingRules = { ...TERM, premium_modes: ['annual', 'monthly'] };
    // age 70 (> 60), SA ₹10 (< ₹1 lakh), term 50 (> 40), maturity 70 + 50 = 120 (> 75), half-yearly not offered
    const input = quote({ date_of_birth: '1956-04-01', sum_assured_paise: 1_000, term_years: 50, premium_mode: 'half_yearly' });
    expect(checkEligibility(rules, input).map(({ rule, path }) => ({ rule, path }))).toEqual([
      { rule: 'ENTRY_AGE_ABOVE_MAX', path: '/date_of_birth' },
      { rule: 'SUM_ASSURED_BELOW_MIN', path: '/sum_assured_paise' },
      { rule: 'TERM_ABOVE_MAX', path: '/term_years' },
      { rule: 'MATURITY_AGE_EXCEEDED', path: '/term_years' },
      { rule: 'PREMIUM_MODE_NOT_ALLOWED', path: '/premium_mode' },
    ]);
  });

  it('applies the maturity limit on entry age + term', () => {
    // age 60 + 15 = 75: allowed; + 16 = 76: refused
    const dateOfBirth = '1966-04-01';
    expect(checkEligibility(TERM, quote({ date_of_birth: dateOfBirth, term_years: 15 }))).toEqual([]);
    expect(checkEligibility(TERM, quote({ date_of_birth: dateOfBirth, term_years: 16 })).map((v) => v.rule)).toEqual(['MATURITY_AGE_EXCEEDED']);
  });

  it('reports below-minimum limits and a missing rate for an age inside the entry range', () => {
    const gapped: RatingRules = { ...TERM, rate_table: [{ min_age: 18, max_age: 29, rate_per_thousand_paise: 1250 }] };
    expect(checkEligibility(gapped, quote()).map((v) => v.rule)).toEqual(['NO_RATE_FOR_AGE']);
    const young = quote({ date_of_birth: '2009-04-01', sum_assured_paise: 200_000_000_000, term_years: 4 });
    expect(checkEligibility(TERM, young).map((v) => v.rule)).toEqual(['ENTRY_AGE_BELOW_MIN', 'SUM_ASSURED_ABOVE_MAX', 'TERM_BELOW_MIN']);
  });

  it('reports malformed values instead of throwing', () => {
    const input = quote({ date_of_birth: '1990-02-30', sum_assured_paise: 1.5, term_years: 0, policy_year: 0 });
    expect(checkEligibility(TERM, input).map(({ rule, path }) => `${rule} ${path}`)).toEqual([
      'INVALID_DATE /date_of_birth',
      'INVALID_SUM_ASSURED /sum_assured_paise',
      'INVALID_TERM /term_years',
      'INVALID_POLICY_YEAR /policy_year',
    ]);
    const unborn = quote({ date_of_birth: '2026-04-02', policy_year: 21 });
    expect(checkEligibility(TERM, unborn).map((v) => v.rule)).toEqual(['DATE_OF_BIRTH_AFTER_START_DATE', 'POLICY_YEAR_AFTER_TERM']);
  });
});

describe('validateRatingRules', () => {
  it('accepts a coherent product', () => {
    expect(validateRatingRules(TERM)).toEqual([]);
    expect(validateRatingRules({ ...HEALTH, modal_factors: { monthly: '0.09', annual: '1' }, tax_rate_bp: 1800 })).toEqual([]);
  });

  it('finds contradictions between limits', () => {
    const rules: RatingRules = {
      ...TERM,
      min_entry_age: 61,
      min_sum_assured_paise: 200_000_000_000,
      min_term_years: 41,
      max_maturity_age: 70,
      rate_table: [{ min_age: 0, max_age: 99, rate_per_thousand_paise: 1000 }],
    };
    expect(validateRatingRules(rules).map(({ rule, path }) => `${rule} ${path}`)).toEqual([
      'ENTRY_AGE_RANGE_INVERTED /min_entry_age',
      'SUM_ASSURED_RANGE_INVERTED /min_sum_assured_paise',
      'TERM_RANGE_INVERTED /min_term_years',
      'MATURITY_AGE_TOO_LOW /max_maturity_age',
    ]);
  });

  it('finds overlapping, gapped, inverted, unpriced and short rate bands', () => {
    const rules: RatingRules = {
      ...TERM,
      rate_table: [
        { min_age: 20, max_age: 30, rate_per_thousand_paise: 1250 }, // starts above min entry age 18
        { min_age: 30, max_age: 40, rate_per_thousand_paise: 0 }, // overlaps band 0 at 30, unpriced
        { min_age: 45, max_age: 50, rate_per_thousand_paise: 3000 }, // gap 41..44; ends below 60
        { min_age: 49, max_age: 48, rate_per_thousand_paise: 3000 }, // inverted
      ],
    };
    expect(validateRatingRules(rules).map(({ rule, path }) => `${rule} ${path}`)).toEqual([
      'RATE_NOT_POSITIVE /rate_table/1/rate_per_thousand_paise',
      'RATE_BAND_INVERTED /rate_table/3/min_age',
      'RATE_BANDS_OVERLAP /rate_table/1/min_age',
      'RATE_BANDS_GAP /rate_table/2/min_age',
      'RATE_TABLE_NOT_COVERING_ENTRY_AGES /rate_table',
    ]);
    expect(validateRatingRules({ ...TERM, rate_table: [] }).map((v) => v.rule)).toEqual(['RATE_TABLE_EMPTY']);
  });

  it('finds bad modes, modal factors, tax rates, kinds and non-integers', () => {
    const rules = {
      ...TERM,
      kind: 'motor',
      max_entry_age: 60.5,
      premium_modes: ['annual', 'weekly', 'annual'],
      modal_factors: { monthly: '0', quarterly: '1.51', half_yearly: 0.51, fortnightly: '0.04', annual: '1.5' },
      tax_rate_bp: 10_001,
    } as unknown as RatingRules; // deliberately malformed, as a bad admin request could be
    expect(validateRatingRules(rules).map(({ rule, path }) => `${rule} ${path}`)).toEqual([
      'UNKNOWN_KIND /kind',
      'INVALID_INTEGER /max_entry_age',
      'PREMIUM_MODE_UNKNOWN /premium_modes/1',
      'PREMIUM_MODE_DUPLICATE /premium_modes/2',
      'MODAL_FACTOR_INVALID /modal_factors/monthly',
      'MODAL_FACTOR_INVALID /modal_factors/quarterly',
      'MODAL_FACTOR_INVALID /modal_factors/half_yearly',
      'MODAL_FACTOR_UNKNOWN_MODE /modal_factors/fortnightly',
      'TAX_RATE_OUT_OF_RANGE /tax_rate_bp',
    ]);
    expect(validateRatingRules({ ...TERM, premium_modes: [] }).map((v) => v.rule)).toEqual(['PREMIUM_MODES_EMPTY']);
  });
});

describe('constants', () => {
  it('lists four modes with their instalment counts and default factors', () => {
    expect(PREMIUM_MODES).toEqual(['annual', 'half_yearly', 'quarterly', 'monthly']);
    expect(INSTALMENTS_PER_YEAR).toEqual({ annual: 1, half_yearly: 2, quarterly: 4, monthly: 12 });
    expect(DEFAULT_MODAL_FACTORS).toEqual({ annual: '1.00', half_yearly: '0.51', quarterly: '0.26', monthly: '0.0875' });
  });
});

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const startDateArb = fc.constantFrom('2024-01-15', '2025-09-21', '2025-09-22', '2026-04-01', '2031-12-31');
const modeArb = fc.constantFrom(...PREMIUM_MODES);
const businessArb = fc.constantFrom('individual' as const, 'group' as const);
const kindArb = fc.constantFrom('term' as const, 'endowment' as const, 'health' as const);
// Factors in (0, 1.5] with up to 4 decimals, written as exact strings.
const modalFactorArb = fc.integer({ min: 1, max: 15_000 }).map((units) => (units / 10_000).toFixed(4));

// One band covering every age, so the rate is the only pricing variable.
function flatRules(kind: RatingRules['kind'], rate: number, extra: Partial<RatingRules> = {}): RatingRules {
  return {
    ...TERM,
    kind,
    min_entry_age: 0,
    max_entry_age: 120,
    max_maturity_age: 240,
    min_sum_assured_paise: 1,
    max_sum_assured_paise: 1_000_000_000_000,
    min_term_years: 1,
    max_term_years: 120,
    rate_table: [{ min_age: 0, max_age: 120, rate_per_thousand_paise: rate }],
    ...extra,
  };
}

const scenarioArb = fc.record({
  kind: kindArb,
  startDate: startDateArb,
  age: fc.integer({ min: 0, max: 100 }),
  mode: modeArb,
  business: businessArb,
  policyYear: fc.integer({ min: 1, max: 10 }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function scenarioInput(s: Scenario, sumAssured: number, mode: PremiumMode = s.mode): QuoteInput {
  return {
    date_of_birth: dateOfBirthForAge(s.startDate, s.age),
    start_date: s.startDate,
    sum_assured_paise: sumAssured,
    term_years: 10,
    premium_mode: mode,
    business: s.business,
    policy_year: s.policyYear,
  };
}

describe('computePremium properties', () => {
  const sumAssuredArb = fc.integer({ min: 1, max: 1_000_000_000_000 });
  const rateArb = fc.integer({ min: 1, max: 1_000_000 });

  it('is non-decreasing in the sum assured', () => {
    fc.assert(
      fc.property(scenarioArb, rateArb, sumAssuredArb, sumAssuredArb, (s, rate, a, b) => {
        const rules = flatRules(s.kind, rate);
        const low = computePremium(rules, scenarioInput(s, Math.min(a, b)));
        const high = computePremium(rules, scenarioInput(s, Math.max(a, b)));
        expect(high.installment_paise).toBeGreaterThanOrEqual(low.installment_paise);
        expect(high.total_installment_paise).toBeGreaterThanOrEqual(low.total_installment_paise);
        expect(high.annualized_total_paise).toBeGreaterThanOrEqual(low.annualized_total_paise);
      }),
    );
  });

  it('is non-decreasing in the rate', () => {
    fc.assert(
      fc.property(scenarioArb, sumAssuredArb, rateArb, rateArb, (s, sumAssured, a, b) => {
        const low = computePremium(flatRules(s.kind, Math.min(a, b)), scenarioInput(s, sumAssured));
        const high = computePremium(flatRules(s.kind, Math.max(a, b)), scenarioInput(s, sumAssured));
        expect(high.base_annual_paise).toBeGreaterThanOrEqual(low.base_annual_paise);
        expect(high.total_installment_paise).toBeGreaterThanOrEqual(low.total_installment_paise);
        expect(high.annualized_total_paise).toBeGreaterThanOrEqual(low.annualized_total_paise);
      }),
    );
  });

  it('never makes paying in instalments cheaper over a year than paying annually', () => {
    // Default factors × instalments are 1.02, 1.04 and 1.05, but each instalment is rounded,
    // losing up to half a paise on it and on its tax. With n instalments that is worth at most
    // (n + 1)/2 paise, covered by the loading once (f·n − 1)·base − n/2 ≥ (n + 1)/2, which holds
    // for every mode from a base of 250 paise (monthly: 0.05·base − 6 ≥ 6.5). Below that, e.g.
    // a base of 1 paise, a quarterly instalment rounds to 0, so the claim needs the bound.
    fc.assert(
      fc.property(scenarioArb, sumAssuredArb, rateArb, (s, sumAssured, rate) => {
        const rules = flatRules(s.kind, rate);
        const annual = computePremium(rules, scenarioInput(s, sumAssured, 'annual'));
        fc.pre(annual.base_annual_paise >= 250);
        for (const mode of ['half_yearly', 'quarterly', 'monthly'] as const) {
          const modal = computePremium(rules, scenarioInput(s, sumAssured, mode));
          expect(modal.annualized_total_paise).toBeGreaterThanOrEqual(annual.annualized_total_paise);
        }
      }),
    );
  });

  it('returns non-negative safe integers that add up, rounded half-up at each step', () => {
    const taxArb = fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null });
    fc.assert(
      fc.property(scenarioArb, sumAssuredArb, rateArb, modalFactorArb, taxArb, (s, sumAssured, rate, factor, tax) => {
        const rules = flatRules(s.kind, rate, { modal_factors: { [s.mode]: factor }, tax_rate_bp: tax });
        const result = computePremium(rules, scenarioInput(s, sumAssured));
        const money = [result.base_annual_paise, result.installment_paise, result.tax_paise, result.total_installment_paise, result.annualized_total_paise];
        for (const value of money) {
          expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
        }
        expect(result.total_installment_paise).toBe(result.installment_paise + result.tax_paise);
        expect(result.annualized_total_paise).toBe(result.total_installment_paise * INSTALMENTS_PER_YEAR[s.mode]);
        // Independent exact check of each rounding: -d < 2(rounded·d − exact numerator) <= d.
        expectHalfUp(BigInt(result.base_annual_paise), BigInt(sumAssured) * BigInt(rate), 100_000n);
        expectHalfUp(BigInt(result.installment_paise), BigInt(result.base_annual_paise) * BigInt(Math.round(Number(factor) * 10_000)), 10_000n);
        expectHalfUp(BigInt(result.tax_paise), BigInt(result.installment_paise) * BigInt(result.tax_rate_bp), 10_000n);
      }),
    );
  });
});

function expectHalfUp(rounded: bigint, numerator: bigint, denominator: bigint): void {
  const twiceError = 2n * (rounded * denominator - numerator);
  expect(twiceError > -denominator && twiceError <= denominator).toBe(true);
}

describe('checkEligibility properties', () => {
  // Each field either stays inside TERM's limits or is pushed out; every push must be reported.
  const limitsArb = fc.record({
    age: fc.oneof(fc.integer({ min: 18, max: 60 }), fc.integer({ min: 0, max: 17 }), fc.integer({ min: 61, max: 99 })),
    sumAssured: fc.oneof(
      fc.integer({ min: 10_000_000, max: 100_000_000_000 }),
      fc.integer({ min: 1, max: 9_999_999 }),
      fc.integer({ min: 100_000_000_001, max: Number.MAX_SAFE_INTEGER }),
    ),
    term: fc.oneof(fc.integer({ min: 5, max: 40 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 41, max: 100 })),
    mode: modeArb,
    startDate: startDateArb,
  });

  it('reports a violation for every out-of-range field and none for in-range ones', () => {
    const rules: RatingRules = { ...TERM, premium_modes: ['annual', 'monthly'] };
    fc.assert(
      fc.property(limitsArb, ({ age, sumAssured, term, mode, startDate }) => {
        const input: QuoteInput = {
          date_of_birth: dateOfBirthForAge(startDate, age),
          start_date: startDate,
          sum_assured_paise: sumAssured,
          term_years: term,
          premium_mode: mode,
        };
        const expected = new Set<string>();
        if (age < 18) expected.add('ENTRY_AGE_BELOW_MIN');
        if (age > 60) expected.add('ENTRY_AGE_ABOVE_MAX');
        if (sumAssured < 10_000_000) expected.add('SUM_ASSURED_BELOW_MIN');
        if (sumAssured > 100_000_000_000) expected.add('SUM_ASSURED_ABOVE_MAX');
        if (term < 5) expected.add('TERM_BELOW_MIN');
        if (term > 40) expected.add('TERM_ABOVE_MAX');
        if (age + term > 75) expected.add('MATURITY_AGE_EXCEEDED');
        if (!rules.premium_modes.includes(mode)) expected.add('PREMIUM_MODE_NOT_ALLOWED');
        const reported = checkEligibility(rules, input);
        expect(new Set(reported.map((v) => v.rule))).toEqual(expected);
        if (expected.size === 0) expect(computePremium(rules, input).age).toBe(age);
        else expect(() => computePremium(rules, input)).toThrow(PremiumError);
      }),
    );
  });
});
