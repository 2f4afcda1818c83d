import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  MAX_POLICY_SEQUENCE,
  formatPolicyNumber,
  isValidPolicyNumber,
  luhnCheckDigit,
  parsePolicyNumber,
} from './policy-number.js';

describe('luhnCheckDigit', () => {
  it('matches the textbook examples', () => {
    // 7992739871: the classic example, check digit 3
    expect(luhnCheckDigit('7992739871')).toBe(3);
    // 00000001: doubled 1 -> 2; (10 - 2) % 10 = 8
    expect(luhnCheckDigit('00000001')).toBe(8);
    // 00000123: 3×2=6, 2, 1×2=2 -> 10; (10 - 0) % 10 = 0
    expect(luhnCheckDigit('00000123')).toBe(0);
    // 99999999: four doubled 9s (18 -> 9) and four plain 9s -> 72; (10 - 2) % 10 = 8
    expect(luhnCheckDigit('99999999')).toBe(8);
  });

  it('refuses anything but digits', () => {
    for (const text of ['', '12a4', '-123', ' 1']) expect(() => luhnCheckDigit(text)).toThrow(RangeError);
  });
});

describe('formatPolicyNumber', () => {
  it('pads the sequence to 8 digits and appends the Luhn digit', () => {
    expect(formatPolicyNumber('LIC', 2026, 1)).toBe('LIC-2026-000000018');
    expect(formatPolicyNumber('LIC', 2026, 123)).toBe('LIC-2026-000001230');
    // 00000042: 2×2=4, 4 -> 8; check 2
    expect(formatPolicyNumber('HDFC-LIFE', 2027, 42n)).toBe('HDFC-LIFE-2027-000000422');
    expect(formatPolicyNumber('star_health', 2026, MAX_POLICY_SEQUENCE)).toBe('STAR_HEALTH-2026-999999998');
  });

  it('throws when the sequence leaves 1..99,999,999 or is not whole', () => {
    expect(() => formatPolicyNumber('LIC', 2026, 100_000_000)).toThrow(RangeError);
    expect(() => formatPolicyNumber('LIC', 2026, 100_000_000n)).toThrow(RangeError);
    expect(() => formatPolicyNumber('LIC', 2026, 0)).toThrow(RangeError);
    expect(() => formatPolicyNumber('LIC', 2026, -1n)).toThrow(RangeError);
    expect(() => formatPolicyNumber('LIC', 2026, 1.5)).toThrow(RangeError);
  });

  it('throws on a malformed provider code or year', () => {
    for (const code of ['', 'A B', '-LIC', 'LIC-', 'LI--C', 'ÄB']) {
      expect(() => formatPolicyNumber(code, 2026, 1)).toThrow(RangeError);
    }
    expect(() => formatPolicyNumber('LIC', 999, 1)).toThrow(RangeError);
    expect(() => formatPolicyNumber('LIC', 10_000, 1)).toThrow(RangeError);
  });
});

describe('isValidPolicyNumber and parsePolicyNumber', () => {
  it('accepts what formatPolicyNumber produces and reads its parts back', () => {
    expect(isValidPolicyNumber('LIC-2026-000000018')).toBe(true);
    expect(parsePolicyNumber('HDFC-LIFE-2027-000000422')).toEqual({ providerCode: 'HDFC-LIFE', year: 2027, sequence: 42 });
  });

  it('rejects a wrong check digit, a wrong shape or a zero sequence', () => {
    for (const text of [
      'LIC-2026-000000017', // check digit should be 8
      'LIC-2026-00000018', // 8 digits in all
      'LIC-2026-0000000018', // 10 digits
      'lic-2026-000000018', // not the canonical upper case
      'LIC-26-000000018',
      'LIC2026000000018',
      '-2026-000000018',
      'LIC-2026-000000000', // sequence 0 is never issued
      ' LIC-2026-000000018',
    ]) {
      expect(isValidPolicyNumber(text)).toBe(false);
    }
  });

  it('round-trips every sequence and catches any single mistyped digit (property)', () => {
    const codeArb = fc.constantFrom('LIC', 'HDFC-LIFE', 'STAR_HEALTH', 'A1');
    const sequenceArb = fc.integer({ min: 1, max: MAX_POLICY_SEQUENCE });
    fc.assert(
      fc.property(codeArb, fc.integer({ min: 2000, max: 2099 }), sequenceArb, fc.nat(8), fc.integer({ min: 1, max: 9 }), (code, year, sequence, position, shift) => {
        const number = formatPolicyNumber(code, year, sequence);
        expect(parsePolicyNumber(number)).toEqual({ providerCode: code, year, sequence });
        const tailStart = number.length - 9;
        const digit = (Number(number[tailStart + position]) + shift) % 10;
        const mistyped = `${number.slice(0, tailStart + position)}${digit}${number.slice(tailStart + position + 1)}`;
        expect(isValidPolicyNumber(mistyped)).toBe(false);
      }),
    );
  });
});
