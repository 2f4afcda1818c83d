import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  applyBasisPoints,
  compareDecimals,
  divideRoundHalfUp,
  formatInr,
  isDecimalString,
  multiplyByDecimal,
  parseDecimal,
  toBigInt,
  toSafeInteger,
} from './money.js';

describe('parseDecimal', () => {
  it('keeps every written digit as an exact scaled integer', () => {
    expect(parseDecimal('0.0875')).toEqual({ units: 875n, scale: 4 });
    expect(parseDecimal('1.00')).toEqual({ units: 100n, scale: 2 });
    expect(parseDecimal('12')).toEqual({ units: 12n, scale: 0 });
    expect(parseDecimal('-2.25')).toEqual({ units: -225n, scale: 2 });
  });

  it('rejects exponents, signs other than minus, blanks and dangling points', () => {
    for (const text of ['1e3', '+1', ' 1', '1.', '.5', '', '0x10', '1,5', 'NaN']) {
      expect(isDecimalString(text)).toBe(false);
      expect(() => parseDecimal(text)).toThrow(RangeError);
    }
  });

  it('compares decimals of different scales by value', () => {
    expect(compareDecimals(parseDecimal('1.5'), parseDecimal('1.50'))).toBe(0);
    expect(compareDecimals(parseDecimal('0.0875'), parseDecimal('0.26'))).toBe(-1);
    expect(compareDecimals(parseDecimal('1.51'), parseDecimal('1.5'))).toBe(1);
  });
});

describe('divideRoundHalfUp', () => {
  it('rounds ties away from zero and everything else to nearest', () => {
    expect(divideRoundHalfUp(109375n, 2n)).toBe(54688n); // 54687.5 -> 54688
    expect(divideRoundHalfUp(-109375n, 2n)).toBe(-54688n); // -54687.5 -> -54688
    expect(divideRoundHalfUp(7n, 4n)).toBe(2n); // 1.75 -> 2
    expect(divideRoundHalfUp(5n, 4n)).toBe(1n); // 1.25 -> 1
    expect(divideRoundHalfUp(0n, 7n)).toBe(0n);
  });

  it('refuses a zero or negative denominator', () => {
    expect(() => divideRoundHalfUp(1n, 0n)).toThrow(RangeError);
    expect(() => divideRoundHalfUp(1n, -2n)).toThrow(RangeError);
  });

  it('is within half a unit of the exact quotient, ties rounding up (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (n, d) => {
        const q = divideRoundHalfUp(n, d);
        // -d < 2(q·d - n) <= d  <=>  q - 1/2 <= n/d < q + 1/2
        const twiceError = 2n * (q * d - n);
        expect(twiceError > -d && twiceError <= d).toBe(true);
      }),
    );
  });
});

describe('multiplyByDecimal and applyBasisPoints', () => {
  it('multiplies by a modal factor without floats', () => {
    // 625000 × 0.0875 = 54687.5 -> 54688
    expect(multiplyByDecimal(625000n, '0.0875')).toBe(54688n);
    // 625000 × 0.51 = 318750 exactly
    expect(multiplyByDecimal(625000n, parseDecimal('0.51'))).toBe(318750n);
  });

  it('applies basis points with half-up rounding', () => {
    // 1000025 × 18% = 180004.5 -> 180005
    expect(applyBasisPoints(1000025n, 1800)).toBe(180005n);
    // 318750 × 2.25% = 7171.875 -> 7172
    expect(applyBasisPoints(318750n, 225n)).toBe(7172n);
    expect(() => applyBasisPoints(100n, 1.5)).toThrow(RangeError);
  });
});

describe('safe integer conversions', () => {
  it('converts only whole, safe values', () => {
    expect(toBigInt(42, 'x')).toBe(42n);
    expect(toBigInt(7n, 'x')).toBe(7n);
    expect(() => toBigInt(0.1, 'x')).toThrow(RangeError);
    expect(() => toBigInt(2 ** 53, 'x')).toThrow(RangeError);
    expect(toSafeInteger(BigInt(Number.MAX_SAFE_INTEGER), 'x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toSafeInteger(BigInt(Number.MAX_SAFE_INTEGER) + 1n, 'x')).toThrow(RangeError);
  });
});

describe('formatInr', () => {
  it('groups digits the Indian way (lakh, crore)', () => {
    expect(formatInr(500000000)).toBe('₹50,00,000.00');
    expect(formatInr(10000000000n)).toBe('₹10,00,00,000.00');
    expect(formatInr(54688)).toBe('₹546.88');
    expect(formatInr(5)).toBe('₹0.05');
    expect(formatInr(-12345678)).toBe('-₹1,23,456.78');
  });
});
