import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMobile, normalizePhone } from './phone.js';

describe('normalizePhone', () => {
  it.each([
    '9876543210',
    '+91 98765 43210',
    '09876543210',
    '+91-98765-43210',
    '(+91) 98765 43210',
    '+(91) 98765 43210',
    '+919876543210',
    '919876543210',
    '0091 98765 43210',
    '98765 43210',
    '98765-43210',
    '+91 (987) 654-3210',
    '+91.98765.43210',
    '  +91 98765 43210  ',
    '+91\u00a098765\u00a043210', // no-break spaces from a pasted number
  ])('reads %j as +919876543210', (input) => {
    expect(normalizePhone(input)).toBe('+919876543210');
  });

  it('accepts Indian landlines, which are valid numbers though not mobiles', () => {
    expect(normalizePhone('+91 22 2345 6789')).toBe('+912223456789');
    expect(normalizePhone('022 2345 6789')).toBe('+912223456789');
  });

  it.each([
    ['+14155552671', '+14155552671'],
    ['+1 415 555 2671', '+14155552671'],
    ['+1 (415) 555-2671', '+14155552671'],
    ['+44 7911 123456', '+447911123456'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+971 50 123 4567', '+971501234567'],
  ])('keeps foreign number %j as %s', (input, e164) => {
    expect(normalizePhone(input)).toBe(e164);
  });

  it('reads local numbers in the given default region', () => {
    expect(normalizePhone('(415) 555-2671', 'US')).toBe('+14155552671');
    expect(normalizePhone('07911 123456', 'GB')).toBe('+447911123456');
    // An explicit country code wins over the default region.
    expect(normalizePhone('+91 98765 43210', 'US')).toBe('+919876543210');
  });

  it('throws on an unknown default region rather than rejecting every number', () => {
    expect(() => normalizePhone('9876543210', 'XX')).toThrow(RangeError);
    expect(() => normalizePhone('9876543210', 'in')).toThrow(RangeError);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['too short', '98765'],
    ['one digit short', '987654321'],
    ['one digit long', '98765432101'],
    ['letters', 'abc'],
    ['letters after digits', '98765abcde'],
    ['letter O for zero', '+91 98765 4321O'],
    ['extension', '+91 98765 43210 ext 12'],
    ['x extension', '+91 98765 43210 x12'],
    ['tel: URI', 'tel:+91-98765-43210'],
    ['number inside text', 'call 9876543210'],
    ['double plus', '++919876543210'],
    ['plus inside the number', '98765+43210'],
    ['Indian number starting 0 after the trunk prefix', '+91 01234 56789'],
    ['Indian 10-digit number in an unassigned range', '+91 10000 00000'],
    ['unassigned country code', '+999 1234567890'],
    ['non-ASCII digits', '९८७६५४३२१०'],
    ['Arabic-Indic digits', '٩٨٧٦٥٤٣٢١٠'],
    ['fullwidth digits', '９８７６５４３２１０'],
    ['embedded newline', '98765\n43210'],
    ['slashes', '98765/43210'],
    ['only punctuation', '+()-'],
  ])('refuses %s', (_label, input) => {
    expect(normalizePhone(input)).toBeNull();
  });

  it('refuses over-long input before parsing it', () => {
    // Valid digits padded with spaces: only the length cap can reject this.
    expect(normalizePhone(`+91 98765 43210${' '.repeat(17)}`)).toBe('+919876543210'); // 32 chars
    expect(normalizePhone(`+91 98765 43210${' '.repeat(18)}`)).toBeNull(); // 33 chars
    expect(normalizePhone('9'.repeat(100_000))).toBeNull();
  });

  it('returns E.164 or null for any string, and is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (input) => {
        const out = normalizePhone(input);
        if (out !== null) {
          expect(out).toMatch(/^\+[1-9][0-9]{6,14}$/);
          expect(normalizePhone(out)).toBe(out);
        }
      }),
    );
  });

  it('normalizes every spacing of a valid Indian mobile the same way', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 6, max: 9 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }),
        fc.constantFrom('', '+91', '+91 ', '0', '91'),
        fc.constantFrom('', ' ', '-'),
        (first, rest, prefix, sep) => {
          const national = `${first}${rest.join('')}`;
          const e164 = normalizePhone(`+91${national}`);
          fc.pre(e164 !== null); // a few 6-prefixed ranges are landline area codes or unassigned
          const written = `${prefix}${national.slice(0, 5)}${sep}${national.slice(5)}`;
          expect(normalizePhone(written)).toBe(e164);
        },
      ),
    );
  });
});

describe('isMobile', () => {
  it.each(['+919876543210', '+917000000000', '+918000000000', '+916000000000', '+447911123456'])(
    'treats %s as a mobile',
    (e164) => {
      expect(isMobile(e164)).toBe(true);
    },
  );

  it('counts numbers in plans that do not separate mobiles from landlines (+1) as mobile', () => {
    expect(isMobile('+14155552671')).toBe(true);
  });

  it.each([
    ['Mumbai landline', '+912223456789'],
    ['Patna landline, though it starts with 6', '+916122345678'],
    ['UK landline', '+442079460958'],
    ['Indian toll-free', '+9118001234567'],
  ])('refuses a %s', (_label, e164) => {
    expect(isMobile(e164)).toBe(false);
  });

  it.each([
    ['national form', '9876543210'],
    ['spaces', '+91 98765 43210'],
    ['invalid number', '+91987654321'],
    ['empty', ''],
    ['garbage', 'not a phone'],
  ])('refuses input that is not a valid E.164 number: %s', (_label, input) => {
    expect(isMobile(input)).toBe(false);
  });

  it('agrees with normalizePhone on the OTP path', () => {
    const e164 = normalizePhone('+91 98765 43210');
    expect(e164).not.toBeNull();
    expect(isMobile(e164 ?? '')).toBe(true);
  });
});
